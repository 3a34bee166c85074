// A published mirror for tests, set up once: a real FTP server (Debian's vsftpd on loopback, the
// mirror at /pub), a test server (worker off: builds are recorded by support/good-submission.ts)
// whose store the publisher reads, its publishing keys (made before any build unless asked not to,
// so that each build's provenance is signed as a real one is), and the client's side: the pinned
// public key, a content keys file, a private config and replay state, `mpm` as users run it. Plus
// what tests do to a mirror: publish a round, read or re-sign its index, snapshot and restore it.
import { execa } from 'execa';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { signIndex, type IndexEntry, type IndexPayload } from '../../src/domain/signed-index.js';
import { silentLogger } from '../../src/lib/logger.js';
import { Publisher, type PublishRound } from '../../src/publish/publisher.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { runCli, type CliRun } from './cli-bin.js';
import { startTestServer, type TestServer } from './test-server.js';
import { Vsftpd } from './vsftpd.js';

export class PublishedMirror {
  readonly ftp = new Vsftpd();
  s!: TestServer;
  pub!: Publisher;
  /** a temp folder of the test's own (config, replay state, content keys, roots) */
  work = '';
  /** the pinned public key (`ed25519:…`) and the content keys file, once the keys exist */
  publicKey = '';
  contentKeys = '';
  /** XDG_DATA_HOME and XDG_CONFIG_HOME under `work`: mpm's replay state and config are the test's */
  env: Record<string, string> = {};
  /** the replay state mpm keeps for the mirrors */
  stateFile = '';

  constructor(private readonly prefix: string) {}

  /** the mirror's URL as mpm is given it */
  get mirror(): string {
    return `${this.ftp.url}/pub`;
  }

  /** the mirror's folder on disk */
  get dir(): string {
    return this.ftp.pub;
  }

  /** Starts the FTP server and the test server; makes the publishing keys unless `keys: false` (then initKeys()). */
  async start(o: { keys?: boolean } = {}): Promise<void> {
    await this.ftp.init();
    await this.ftp.start();
    this.s = await startTestServer({ worker: false });
    this.work = await mkdtemp(path.join(os.tmpdir(), this.prefix));
    this.env = { XDG_DATA_HOME: path.join(this.work, 'share'), XDG_CONFIG_HOME: path.join(this.work, 'config') };
    this.stateFile = path.join(this.work, 'share', 'mpm', 'mirrors.json');
    this.pub = new Publisher({
      settings: { ...this.s.config.publish, retry_base_seconds: 1, mirrors: [{ name: 'main', url: this.ftp.url, user: 'anonymous', password_file: null, dir: '/pub', tls_verify: true, ca_file: null, verify: 'sha256' }] },
      root: this.s.ctx.layout.publish, storeRoot: this.s.ctx.layout.store, log: silentLogger,
    });
    if (o.keys ?? true) await this.initKeys();
  }

  /** `morphux keys init`: from now on builds' provenance is signed; the client pins the key and holds the content keys. */
  async initKeys(): Promise<void> {
    await this.pub.keys.init();
    this.publicKey = (await this.pub.keys.publicKeys())[0].public_key;
    this.contentKeys = path.join(this.work, 'content-keys.json');
    await writeFile(this.contentKeys, JSON.stringify(await this.pub.keys.contentKeysFile()));
  }

  async close(): Promise<void> {
    await this.s?.close();
    await this.ftp.close();
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }

  /** One publishing round, forced, waiting for another's; throws when an upload failed. */
  async publish(): Promise<PublishRound> {
    const r = (await this.pub.runOnce({ force: true, wait: true }))!;
    const failed = r.mirrors.flatMap((m) => m.failed);
    if (failed.length) throw new Error(`publishing failed: ${JSON.stringify(failed)}`);
    return r;
  }

  /** --public-key and --content-keys as a user passes them */
  trust(): string[] {
    return ['--public-key', this.publicKey, '--content-keys', this.contentKeys];
  }

  /** mpm as users run it (the bundled CLI), with no server, the test's config and replay state */
  mpm(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
    return runCli('mpm', args, { cwd: this.work, env: { ...this.env, ...env } });
  }

  async readIndex(): Promise<IndexPayload> {
    return JSON.parse(JSON.parse(await readFile(path.join(this.dir, 'index.json'), 'utf8')).payload);
  }

  /** The mirror's index re-signed with the publisher's key, its entries changed by `edit` (same sequence). */
  async resign(edit: (a: IndexEntry[]) => void): Promise<void> {
    const ix = await this.readIndex();
    edit(ix.artifacts);
    const k = await this.pub.keys.signingKey();
    await writeFile(path.join(this.dir, 'index.json'), signIndex(ix, k.privateKey, k.id));
  }

  /** A file of a build's binaries/x86_64/ as committed (files.tar.gz, manifest.json, provenance.dsse.json). */
  async committed(pkgid: number, file: string): Promise<Buffer> {
    const r = await execa('git', ['-C', this.s.ctx.layout.store, 'cat-file', 'blob', `HEAD:${storePaths.binaries(pkgid, 'x86_64')}/${file}`], { encoding: 'buffer', stripFinalNewline: false });
    return Buffer.from(r.stdout);
  }

  /** Runs `f` (which may change the mirror's files), then puts the mirror back as it was. */
  async restoring<T>(f: () => Promise<T>): Promise<T> {
    const snapshot = path.join(this.work, 'snapshot');
    await rm(snapshot, { recursive: true, force: true });
    await cp(this.dir, snapshot, { recursive: true });
    try {
      return await f();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
      await cp(snapshot, this.dir, { recursive: true });
      await this.ftp.ownPub();
    }
  }
}
