// The shape of Morphux's configuration, with every default. morphux.example.yaml documents
// the same keys for people; load-config.ts reads the file and the environment into it.
import { z } from 'zod';
import { ARCHES } from '../domain/arch.js';


/** A token bucket (service/throttle.ts): up to `burst` actions at once, then `per_minute` more a
 *  minute, refilled steadily; null: not throttled. */
const throttleBucket = (burst: number, perMinute: number) => z.object({
  burst: z.number().int().min(1).default(burst),
  per_minute: z.number().positive().default(perMinute),
}).strict().nullable().prefault({});

export const configSchema = z.object({
  /** where everything lives: repos/, store/, users/, state/, tmp/ */
  data: z.string().min(1).default('./var'),
  server: z.object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** the URL users reach this server at; default http://<host>:<port> */
    public_url: z.string().url().nullable().default(null),
    /** largest request body accepted by the API (portpkg uploads included) */
    body_limit_bytes: z.number().int().positive().default(64 * 1024 * 1024),
    /** largest git push (the pack as sent); also git's receive.maxInputSize */
    push_limit_bytes: z.number().int().positive().default(1024 * 1024 * 1024),
    /** a client must send a request's headers within this time, and the whole request (body
     *  included) within request_timeout_seconds, or it gets a 408 and is cut off (slow-drip clients) */
    headers_timeout_seconds: z.number().int().min(1).default(30),
    request_timeout_seconds: z.number().int().min(1).default(300),
    /** git-http-backend processes at once (clones, fetches, pushes; each a process tree of 20 MB or
     *  more); more requests wait in turn, up to git_queue_max, and past that get a 503 */
    git_backends_max: z.number().int().min(1).max(1024).default(16),
    git_queue_max: z.number().int().min(0).max(100_000).default(512),
  }).strict().prefault({}),
  /** what a portpkg tree (a pushed version branch or an upload) may hold */
  portpkg: z.object({
    /** entries (files, folders and links) in the tree */
    max_entries: z.number().int().min(1).default(8192),
    /** the sum of the files' sizes, unpacked */
    max_unpacked_bytes: z.number().int().min(1024).default(512 * 1024 * 1024),
  }).strict().prefault({}),
  builder: z.object({
    /** run a build worker inside `morphux serve` */
    embedded_worker: z.boolean().default(true),
    /** VMs run at once by one worker */
    concurrency: z.number().int().min(1).max(64).default(1),
    /** architectures every package is built for */
    arches: z.array(z.enum(ARCHES)).min(1).default(['x86_64']),
    /** wall-clock limit of one build, VM boot to power-off */
    timeout_seconds: z.number().int().min(10).default(1800),
    /** a build whose log stays silent this long is killed (reason timeout); 0 turns it off */
    log_idle_seconds: z.number().int().min(0).default(600),
    /** attempts of a build whose VM dies without a result (infrastructure), then it fails */
    max_attempts: z.number().int().min(1).max(10).default(3),
    /** memory and virtual CPUs of one build VM */
    memory_mib: z.number().int().min(256).default(1024),
    cpus: z.number().int().min(1).max(64).default(2),
    /** kvm when a probe boot shows it works, else tcg; or force one */
    accel: z.enum(['auto', 'kvm', 'tcg']).default('auto'),
    /** where base images and kernels are cached (shared by data dirs); default ~/.cache/morphux/images */
    image_dir: z.string().nullable().default(null),
    /** Debian suite of the base image */
    suite: z.string().default('bookworm'),
    /** size of each build's scratch disk */
    scratch_disk_mib: z.number().int().min(256).default(4096),
    /** largest build log kept, bytes; the rest is cut */
    log_max_bytes: z.number().int().min(4096).default(8 * 1024 * 1024),
    /** start build VMs by restoring a saved state of the booted base VM (made once per image, QEMU
     *  and VM settings); false: every VM boots cold. A restore that fails boots cold anyway. */
    snapshot: z.boolean().default(true),
    /** the rebuild check (domain/rebuild.ts): a good build is built again in another fresh VM with a
     *  varied environment and the two results compared file by file. when: every good build, a
     *  sample of them (sample_rate, 0 to 1, chosen by a hash of pkgid and arch) or none; each
     *  check is a job on the build queue, taken after every waiting build */
    rebuild: z.object({
      when: z.enum(['every', 'sample', 'none']).default('every'),
      sample_rate: z.number().min(0).max(1).default(0.1),
    }).strict().prefault({}),
  }).strict().prefault({}),
  store: z.object({
    /** most metadata changes (comments, votes, tags, reports, build statuses) that one store commit
     * takes when they arrive together (group commit); 1: a commit per change */
    group_commit_max: z.number().int().min(1).max(10_000).default(256),
  }).strict().prefault({}),
  publish: z.object({
    /** names this repository in every signed index (clients keep replay state per origin and mirror) */
    origin: z.string().regex(/^[A-Za-z0-9._-]+$/).default('morphux'),
    /** how artifacts are compressed before they are signed and encrypted (docs/BENCHMARKS.md) */
    compression: z.enum(['zstd', 'xz']).default('zstd'),
    /** seconds between two rounds of the background publisher in `morphux serve` */
    interval_seconds: z.number().int().min(1).default(60),
    /** an index is valid this long after it is signed; the publisher re-signs it at half-life */
    index_valid_days: z.number().positive().default(7),
    /** a failed upload is retried after base × 2^(failures−1) seconds, at most max */
    retry_base_seconds: z.number().int().min(1).default(30),
    retry_max_seconds: z.number().int().min(1).default(3600),
    /** FTP mirrors every good submission is pushed to; none: nothing is published */
    mirrors: z.array(z.object({
      name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
      /** ftp://host[:port] or ftps://host[:port] (explicit TLS) */
      url: z.string().regex(/^ftps?:\/\/[^/\s]+\/?$/, 'ftp://host[:port] or ftps://host[:port]'),
      user: z.string().min(1).default('anonymous'),
      /** a file holding the password (first line); none: an anonymous login */
      password_file: z.string().nullable().default(null),
      /** the folder on the server that is the mirror's root */
      dir: z.string().default('/'),
      /** FTPS: refuse a certificate that does not verify */
      tls_verify: z.boolean().default(true),
      /** FTPS: a PEM file of CAs trusted besides the system's (a private CA, a self-signed server) */
      ca_file: z.string().nullable().default(null),
      /** how an upload is checked before its rename: sha256 reads it back (one more transfer), size only compares sizes */
      verify: z.enum(['sha256', 'size']).default('sha256'),
    }).strict()).default([]),
  }).strict().prefault({}),
  queue: z.object({
    /** embedded: in-process, rebuilt from the store at start-up; redis: BullMQ, for builders on many machines */
    kind: z.enum(['embedded', 'redis']).default('embedded'),
    /** redis://[user:password@]host:port[/db] when kind is redis */
    url: z.string().nullable().default(null),
    /** a taken job's lock, extended while its VM runs; a dead worker's job is free again after it */
    lock_seconds: z.number().int().min(5).default(60),
    /** how often stalled jobs (dead workers) are looked for */
    stalled_check_seconds: z.number().int().min(1).default(30),
  }).strict().refine((q) => q.kind !== 'redis' || !!q.url, { message: 'queue.url is needed when queue.kind is redis' }).prefault({}),
  replica: z.object({
    /** the primary a `morphux replica` clones BASE/store.git from (or --upstream) */
    upstream: z.string().url().nullable().default(null),
    /** seconds between two fetches of the store; a POST /internal/replica/notify fetches at once */
    interval_seconds: z.number().int().min(1).default(30),
    /** on the primary: base URLs of replicas told after each store commit (POST <url>/internal/replica/notify) */
    notify: z.array(z.string().url().refine((u) => /^https?:/.test(u), 'an http(s) URL')).default([]),
  }).strict().prefault({}),
  /** per-user and per-address token buckets; a refused action gets a 429 (rate_limited) with Retry-After */
  throttle: z.object({
    enabled: z.boolean().default(true),
    /** buckets kept per kind and scope; past it, full buckets are dropped first, then the least recently used */
    max_keys: z.number().int().min(100).default(50_000),
    /** sign-in attempts, per client address and per attempted user name */
    sign_in: z.object({ per_user: throttleBucket(10, 5), per_address: throttleBucket(10, 5) }).strict().prefault({}),
    /** a bad, expired or revoked token presented; not per user by default (anyone could lock a user out) */
    auth_failure: z.object({ per_user: throttleBucket(20, 10).default(null), per_address: throttleBucket(20, 10) }).strict().prefault({}),
    /** every mutating action: comments, votes, tags, reports, flags, submissions, tokens */
    write: z.object({ per_user: throttleBucket(60, 30), per_address: throttleBucket(120, 60) }).strict().prefault({}),
    /** the actions with big bodies (submissions, reports), which take from it instead of write */
    upload: z.object({ per_user: throttleBucket(10, 2), per_address: throttleBucket(20, 4) }).strict().prefault({}),
  }).strict().prefault({}),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).strict().prefault({}),
}).strict();

export type Config = z.infer<typeof configSchema>;
