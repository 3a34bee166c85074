// A test shortcut standing in for the builder: pushes a fixture to a version branch of a test
// server (worker off, so nothing builds), then records the build outcome the VM would have:
// status good and a binaries archive made here from `files` with its manifest, through
// store/update-status.ts (recordGoodBuild, for an uploaded submission too), with the run facts the
// instance's build host gives (provenanceRun: its provenance is signed as a real build's is).
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import type { InstalledEntry } from '../../src/builder/vm/vm-types.js';
import { updateStatus } from '../../src/store/changes/update-status.js';
import { fixtureRepo, git, pushUrl, queuedLine } from './git-client.js';
import { newUser, type TestInstance, type TestServer } from './test-server.js';

/** Creates a maintainer and the package repo once per server and name. */
export async function maintainer(s: Pick<TestInstance, 'api' | 'adminToken'>, name: string): Promise<{ user: string; token: string }> {
  const user = `m${Math.random().toString(36).slice(2, 8)}`;
  const token = await newUser(s, user);
  const r = await s.api('POST', '/api/v1/repos', { name }, token);
  if (r.status !== 201) throw new Error(`POST /api/v1/repos ${name}: ${r.status}`);
  return { user, token };
}

export interface GoodBuildOptions {
  /** the fixture pushed (default hello; its name and version are set to the ones given) */
  fixture?: string;
  /** more changes to its package.json (dependencies, …) */
  edit?: (p: any) => void;
  /** measurements recorded in status.json (default: the files' bytes, 0.5 s) */
  installedSize?: number;
  compileSeconds?: number;
  /** the pkgids the build had installed (status.json's resolved_dependencies; its provenance names them) */
  resolvedDependencies?: number[];
  /** binaries made elsewhere (install-plan-server.ts buildPackage: folders, links, hard links), in
   *  place of `files`: recorded by recordBuiltPackage */
  built?: (pkgid: number) => Promise<{ archive: Buffer; manifest: Buffer }>;
}

/** Pushes fixture `hello` (or opts.fixture) as NAME@VERSION and marks it built good with these installed files. */
export async function goodSubmission(s: TestServer, who: { user: string; token: string }, name: string, version: string, files: Record<string, Buffer | string>, opts: GoodBuildOptions = {}): Promise<number> {
  const wc = await fixtureRepo(opts.fixture ?? 'hello', (p) => { p.name = name; p.version = version; opts.edit?.(p); });
  const r = await git(wc, 'push', pushUrl(s.url, name, who.user, who.token), `HEAD:refs/heads/version-${version}`);
  await rm(wc, { recursive: true, force: true });
  const q = queuedLine(r.out);
  if (!q) throw new Error(`push of ${name} ${version} made no submission: ${r.out}`);
  if (opts.built) await recordBuiltPackage(s, q.pkgid, await opts.built(q.pkgid), opts);
  else await recordGoodBuild(s, q.pkgid, files, opts);
  return q.pkgid;
}

/**
 * Records what a good x86_64 build would, without a VM (any submission, pushed or uploaded): status
 * good with measurements, binaries/x86_64/files.tar.gz made here from `files` (paths relative to /)
 * and manifest.json listing them as the builder does (InstalledEntry: path, type, size, mode, sha256).
 */
export async function recordGoodBuild(s: Pick<TestInstance, 'ctx'>, pkgid: number, files: Record<string, Buffer | string>, opts: Pick<GoodBuildOptions, 'installedSize' | 'compileSeconds' | 'resolvedDependencies'> = {}): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'morphux-bin-'));
  try {
    const root = path.join(tmp, 'root');
    const installed: InstalledEntry[] = [];
    for (const [rel, data] of Object.entries(files)) {
      const mode = rel.includes('/bin/') ? 0o755 : 0o644;
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), data, { mode });
      const bytes = Buffer.from(data);
      installed.push({ path: `/${rel}`, type: 'file', size: bytes.length, mode: 0o100000 | mode, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    const archive = path.join(tmp, 'files.tar.gz');
    const top = (await readdir(root).catch(() => [])).sort();
    if (top.length) await tar.create({ gzip: true, file: archive, cwd: root, portable: true }, top);
    else await writeFile(archive, gzipSync(Buffer.alloc(1024))); // an empty install: an empty archive, as the builder packs it
    const size = opts.installedSize ?? installed.reduce((n, f) => n + f.size, 0);
    await updateStatus(s.ctx.store, pkgid, {
      message: `test: build ${pkgid} good`,
      actor: 'builder',
      change: (st) => {
        st.state = 'good';
        st.reason = null;
        st.build = { arch: 'x86_64', installed_size: size, compile_seconds: opts.compileSeconds ?? 0.5, files: installed.map((f) => f.path), modified_files: [], binaries: [], resolved_dependencies: opts.resolvedDependencies ?? [], phases: {} };
      },
      binaries: { arch: 'x86_64', archive, manifest: { pkgid, arch: 'x86_64', files: installed }, provenance: await s.ctx.builds.provenanceRun() },
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Records a good x86_64 build from an archive and manifest made elsewhere (buildPackage of
 * test/support/install-plan-server.ts, whose manifests list folders, symlinks and hard links as
 * the builder's do): the archive as binaries/x86_64/files.tar.gz, the manifest's files as the
 * builder's (update-status.ts adds pkgid, name, version and arch).
 */
export async function recordBuiltPackage(s: Pick<TestInstance, 'ctx'>, pkgid: number, built: { archive: Buffer; manifest: Buffer }, opts: Pick<GoodBuildOptions, 'installedSize' | 'compileSeconds' | 'resolvedDependencies'> = {}): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'morphux-bin-'));
  try {
    const archive = path.join(tmp, 'files.tar.gz');
    await writeFile(archive, built.archive);
    const { files } = JSON.parse(built.manifest.toString('utf8')) as { files: InstalledEntry[] };
    const size = opts.installedSize ?? files.reduce((n, f) => n + (f.type === 'file' ? f.size : 0), 0);
    await updateStatus(s.ctx.store, pkgid, {
      message: `test: build ${pkgid} good`,
      actor: 'builder',
      change: (st) => {
        st.state = 'good';
        st.reason = null;
        st.build = { arch: 'x86_64', installed_size: size, compile_seconds: opts.compileSeconds ?? 0.5, files: files.filter((f) => f.type !== 'dir').map((f) => f.path), modified_files: [], binaries: [], resolved_dependencies: opts.resolvedDependencies ?? [], phases: {} };
      },
      binaries: { arch: 'x86_64', archive, manifest: { files }, provenance: await s.ctx.builds.provenanceRun() },
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
