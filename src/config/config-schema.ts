// The shape of Morphux's configuration, with every default. morphux.example.yaml documents
// the same keys for people; load-config.ts reads the file and the environment into it.
import { z } from 'zod';

export const ARCHES = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof ARCHES)[number];

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
  }).strict().prefault({}),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).strict().prefault({}),
}).strict();

export type Config = z.infer<typeof configSchema>;
