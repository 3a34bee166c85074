// A store generated for benchmarks, written straight to disk and committed once: P packages with
// S submissions each (index/ports/<l>/<name>.json as the server writes them, and port/common/<l>/
// <name>/package.json, the newest submission's tree) and, for the first F pkgids, a real
// submission folder: portpkg.tgz (the same small archive for all), unpacked/package.json,
// meta/submission_info.json (the archive's real sha256 and size) and status.json, and the
// flags/tags/votes documents the index entry counts, so `morphux store fsck` finds the tree and the
// indexes in agreement when F = P*S. With `installable`, every good submission also has an x86_64
// build (status.json builds.x86_64, binaries/x86_64/files.tar.gz, the same small archive for all,
// and its manifest.json) and runtime dependencies on a few packages of its block of ten, which
// its index entry carries (dependencies, builds: what an install plan reads; bench/install-plan.ts). Package i is named <letter>pkg<i, 6 digits> (letters in turn,
// so the index folders share them as real names do); its submissions have pkgids (i-1)*S+1 … i*S.
//
// No git index: each file is written to the working tree and the same bytes go to one
// `git fast-import`, one commit on refs/heads/main, so the working tree equals HEAD. Content that
// repeats (the archive, status.json, the meta documents) is a marked blob named by its mark; the
// rest is inline (fast-import stores identical inline content once). Files are written with
// synchronous calls between writes to fast-import's pipe, which git reads on the other core:
// here twice as fast as fs/promises with 64 or 256 writes in flight (creating files is kernel
// time that a second thread does not speed up).
// Measured on 2 cores: 100,000 folders (P=10,000 S=10) in 30 s, 3.4 GB of disk (82 MB of it the
// pack), fast-import's RSS 158 MB, this process's 137 MB. At 1,000,000 folders that is ~5.4 million
// files and ~3.1 million folders (8.5 million inodes), ~34 GB, a 0.8 GB pack and fast-import at
// 1.7 GB (it holds the whole tree): extrapolated, 5-10 minutes. Removing such a store takes longer
// than writing it (9.5 minutes for the 100,000 folders here).
//
// Run as a script (`tsx bench/support/generated-store.ts DATA P S F [installable]`) it writes one in its own
// process, so a bench that measures afterwards does not carry the writing's heap.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { initStoreRepo } from '../../src/store/tree/store-git.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { rawTgz } from '../../test/support/raw-tar.js';

export const CATEGORIES = ['utils', 'libs', 'net', 'devel', 'games'];
export const pkgName = (i: number) => `${'abcdefghijklmnopqrstuvwxyz'[i % 26]}pkg${String(i).padStart(6, '0')}`;

export interface GenerateOptions {
  packages: number;
  perPackage?: number;
  /** submission folders for pkgids 1..folders */
  folders?: number;
  /** good submissions are installable: an x86_64 build with binaries, and runtime dependencies (installDeps) */
  installable?: boolean;
}

/** Whether package i (1-based, S submissions each) has a good submission: pkgids that are multiples of 10 failed. */
const hasGood = (i: number, perPackage: number) => Array.from({ length: perPackage }, (_, k) => (i - 1) * perPackage + k + 1).some((id) => id % 10 !== 0);

/** The runtime dependencies of package i in an installable store: i+1 and i+3 when they are in its
 *  block of ten (so a closure has at most ten packages) and have a good submission; `>=1`. */
export function installDeps(i: number, packages: number, perPackage = 1): Record<string, string> {
  const deps: Record<string, string> = {};
  for (const j of [i + 1, i + 3]) {
    if (j <= packages && Math.ceil(j / 10) === Math.ceil(i / 10) && hasGood(j, perPackage)) deps[pkgName(j)] = '>=1';
  }
  return deps;
}

const ARCH = 'x86_64';
const INSTALLED_BODY = '#!/bin/sh\necho bench\n';
/** The build record every installable submission's status.json has. */
const BUILD = { arch: ARCH, installed_size: 20480, compile_seconds: 2.5, files: ['/usr/bin/bench'], modified_files: [], binaries: [], resolved_dependencies: [], phases: {} };

/** A one-file archive (package.json): every generated submission's portpkg.tgz. */
const makeTgz = (): Buffer => rawTgz([{ name: 'package.json', body: JSON.stringify({ name: 'benchpkg', version: '1.0.0', description: 'generated for a benchmark' }, null, 2) + '\n' }]);

/** fast-import's input, gathered into ~256 KiB writes; waits while the pipe is full. */
class Feed {
  private parts: Array<string | Buffer> = [];
  private size = 0;
  private readonly ended: Promise<never>;
  constructor(private readonly out: Writable, exited: Promise<{ stderr?: unknown }>) {
    this.ended = exited.then((r) => { throw new Error(`git fast-import ended before its input did: ${String(r.stderr ?? '').trim()}`); });
    this.ended.catch(() => undefined);
  }
  push(s: string | Buffer): void {
    this.parts.push(s);
    this.size += s.length;
  }
  /** `data <n>` and the bytes */
  data(s: string | Buffer): void {
    this.push(`data ${Buffer.byteLength(s)}\n`);
    this.push(s);
    this.push('\n');
  }
  async maybeFlush(): Promise<void> {
    if (this.size >= 256 * 1024) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.parts.every((p) => typeof p === 'string') ? this.parts.join('') : Buffer.concat(this.parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
    this.parts = [];
    this.size = 0;
    // not events.once: it would throw the pipe's EPIPE rather than git's own message
    if (!this.out.write(chunk)) await Promise.race([new Promise((resolve) => this.out.once('drain', resolve)), this.ended]);
  }
}

export async function generateStore(data: string, o: GenerateOptions): Promise<void> {
  const perPackage = o.perPackage ?? 1;
  const installable = o.installable ?? false;
  const total = o.packages * perPackage;
  const folders = Math.min(o.folders ?? 100, total);
  const store = path.join(data, 'store');
  if (existsSync(path.join(store, '.git'))) throw new Error(`${store} already holds a repository: the generated store is written once, into a new folder`);
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const say = (s: string) => { if (total >= 100_000) process.stderr.write(`generated-store: ${s}, ${elapsed()}\n`); };
  await mkdir(store, { recursive: true });
  await initStoreRepo(store); // git init -q -b main, with the real store's settings
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const when = Math.floor(Date.now() / 1000);

  // --depth=0: no delta against the previous blob, a different file (10% faster at 300,000
  // folders, the same at a million; the pack grows by 1%). The malloc settings keep glibc from
  // giving its heap back after each object: every object's zlib stream would fault in ~256 KiB of
  // fresh pages again (1.5x slower in all, 5x on the indexes).
  const fi = execa('git', ['fast-import', '--quiet', '--done', '--depth=0'], {
    cwd: store, stdin: 'pipe', stdout: 'ignore', stderr: 'pipe',
    env: { MALLOC_TRIM_THRESHOLD_: String(1 << 30), MALLOC_TOP_PAD_: String(16 << 20) },
  });
  const exited = fi.then((r) => r, (e: { stderr?: unknown }) => e);
  fi.stdin.on('error', () => undefined); // EPIPE when git has died: git's own error is reported
  const feed = new Feed(fi.stdin, exited);

  // what repeats, as marked blobs
  let marks = 0;
  const blob = (content: string | Buffer): number => {
    feed.push(`blob\nmark :${++marks}\n`);
    feed.data(content);
    return marks;
  };
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n'; // as the store's transactions write
  const tgz = makeTgz();
  const tgzMark = blob(tgz);
  const tgzSha256 = createHash('sha256').update(tgz).digest('hex');
  const statuses = [false, true].map((failed) => {
    const text = !failed && installable
      ? JSON.stringify({ state: 'good', reason: null, message: null, updated_at: now, attempts: 1, build: BUILD, builds: { [ARCH]: { state: 'good', reason: null, message: null, attempts: 1, resolved_dependencies: [], build: BUILD, updated_at: now } } })
      : JSON.stringify({ state: failed ? 'failed' : 'good', reason: failed ? 'build' : null, message: null, updated_at: now, attempts: 1, build: null });
    return { text, mark: blob(text) };
  });
  // an installable build's binaries: one archive for all, a manifest naming its submission
  const binTgz = rawTgz([{ name: 'usr/bin/bench', body: INSTALLED_BODY }]);
  const binMark = blob(binTgz);
  const binDigest = { size: binTgz.length, sha256: createHash('sha256').update(binTgz).digest('hex') };
  const installedFile = { path: '/usr/bin/bench', type: 'file', size: INSTALLED_BODY.length, mode: 0o100755, sha256: createHash('sha256').update(INSTALLED_BODY).digest('hex') };
  const binManifest = (pkgid: number, name: string, version: string) => json({ pkgid, name, version, arch: ARCH, files: [installedFile] });
  const votes = [0, 1, 2, 3, 4, 5, 6].map((n) => {
    const text = json({ voters: Array.from({ length: n }, (_, v) => ({ user: `voter${v + 1}`, at: now })) });
    return { text, mark: n ? blob(text) : 0 };
  });
  const tags = Array.from({ length: 13 }, (_, u) => {
    const text = json({ tags: [{ tag: `u${u}`, by: 'alice', at: now }] });
    return { text, mark: blob(text) };
  });
  const flags = json({ stable: true, history: [{ flag: 'stable', action: 'set', by: 'alice', at: now }] });
  const flagsMark = blob(flags);

  const message = 'bench data\n';
  feed.push(`commit refs/heads/main\nauthor bench <b@b> ${when} +0000\ncommitter bench <b@b> ${when} +0000\ndata ${message.length}\n${message}`);
  const byMark = (mark: number, rel: string) => feed.push(`M 100644 :${mark} ${rel}\n`);
  const inline = (rel: string, content: string) => {
    feed.push(`M 100644 inline ${rel}\n`);
    feed.data(content);
  };
  // Templates. fast-import interns the name of every new tree entry in a fixed table of 4451
  // chains, new names in front: a name first seen early ("meta", "package.json") is found at the
  // end of a chain that grows with every pkgid (~270 long at a million). So a submission folder is
  // copied (C) from a template that has its files (C keeps the names), its own files are put in
  // over the template's (M), and the folder is moved into place (R): one name lookup (its pkgid)
  // instead of ten. 2.6x faster at a million folders. Variants: bit 1 flags.json, 2 tags.json, 4 votes.json.
  for (let v = 0; v < 8; v++) {
    for (const f of ['portpkg.tgz', 'unpacked/package.json', 'meta/submission_info.json', 'meta/status.json']) byMark(tgzMark, `tpl${v}/${f}`);
    if (v & 1) byMark(flagsMark, `tpl${v}/meta/flags.json`);
    if (v & 2) byMark(tags[0]!.mark, `tpl${v}/meta/tags.json`);
    if (v & 4) byMark(votes[1]!.mark, `tpl${v}/meta/votes.json`);
    if (installable) for (const f of ['files.tar.gz', 'manifest.json']) byMark(binMark, `tpl${v}/binaries/${ARCH}/${f}`);
  }
  byMark(tgzMark, 'tplc/package.json');

  let files = 0;
  const made = new Set<string>();
  const dirOnce = (rel: string) => {
    if (made.has(rel)) return;
    mkdirSync(path.join(store, rel), { recursive: true });
    made.add(rel);
  };
  const newDir = (rel: string) => mkdirSync(path.join(store, rel));
  const put = (rel: string, content: string | Buffer) => {
    writeFileSync(path.join(store, rel), content);
    files++;
  };

  // a submission's index entry, from its pkgid alone (package i, its k-th); with the manifest.json of
  // its binaries when it has some
  const dependencies = (i: number) => (installable ? installDeps(i, o.packages, perPackage) : {});
  const entry = (pkgid: number) => {
    const i = Math.floor((pkgid - 1) / perPackage) + 1;
    const k = (pkgid - 1) % perPackage;
    const failed = pkgid % 10 === 0;
    const version = `1.${k}.${i % 17}`;
    const binaries = installable && !failed ? binManifest(pkgid, pkgName(i), version) : null;
    const e = {
      pkgid, version, state: failed ? 'failed' : 'good', reason: failed ? 'build' : null, submitter: 'alice', submitter_role: 'maintainer',
      submitted_at: now, updated_at: now, commit: null, stable: k === perPackage - 1 && i % 3 === 0, tags: k % 4 ? [] : [`u${i % 13}`],
      votes: (i + k) % 7, failed_reports: 0, dependencies: dependencies(i),
      // as store/indexed-builds.ts derives it
      ...(binaries ? { builds: { [ARCH]: { installed_size: BUILD.installed_size, compile_seconds: BUILD.compile_seconds, binaries: binDigest, manifest_sha256: createHash('sha256').update(binaries).digest('hex') } } } : {}),
    };
    return { e, binaries };
  };
  const description = (i: number) => `package number ${i}, a ${CATEGORIES[i % 5]} tool`;
  const manifest = (i: number, version: string) => json({ name: pkgName(i), version, description: description(i), ...(installable ? { dependencies: dependencies(i) } : {}) });

  // the packages: their index and their newest tree
  for (let i = 1; i <= o.packages; i++) {
    const name = pkgName(i);
    const submissions = [];
    for (let k = 0; k < perPackage; k++) submissions.push(entry((i - 1) * perPackage + k + 1).e);
    const common = storePaths.common(name);
    const newest = manifest(i, submissions[perPackage - 1]!.version);
    dirOnce(path.posix.dirname(common));
    newDir(common);
    put(`${common}/package.json`, newest);
    feed.push('C tplc c\n');
    inline('c/package.json', newest);
    feed.push(`R c ${common}\n`);
    const ixFile = storePaths.portIndex(name);
    const index = JSON.stringify({ name, description: description(i), category: CATEGORIES[i % 5], tags: [`t${i % 50}`], submissions }, null, 2) + '\n';
    dirOnce(path.posix.dirname(ixFile));
    put(ixFile, index);
    inline(ixFile, index);
    if (Math.floor((i * perPackage) / 100_000) > Math.floor(((i - 1) * perPackage) / 100_000)) say(`indexed ${i * perPackage} submissions`);
    await feed.maybeFlush();
  }

  // the submission folders, in the store's path order (one port/portpkgs/xx/yy folder after another)
  let written = 0;
  const folder = (pkgid: number) => {
    const { e: sub, binaries } = entry(pkgid);
    const i = Math.floor((pkgid - 1) / perPackage) + 1;
    const dir = storePaths.portpkgDir(pkgid);
    const file = (rel: string, content: string | Buffer, mark: number | null) => {
      put(`${dir}/${rel}`, content);
      if (mark === null) inline(`t/${rel}`, content as string);
      else if (mark) byMark(mark, `t/${rel}`);
      // else: the template's
    };
    newDir(dir);
    newDir(`${dir}/unpacked`);
    newDir(`${dir}/meta`);
    feed.push(`C tpl${(sub.stable ? 1 : 0) | (sub.tags.length ? 2 : 0) | (sub.votes ? 4 : 0)} t\n`);
    file('portpkg.tgz', tgz, 0);
    file('unpacked/package.json', manifest(i, sub.version), null);
    file('meta/submission_info.json', JSON.stringify({ pkgid, name: pkgName(i), version: sub.version, submitter: 'alice', submitter_role: 'maintainer', submitted_at: now, source: { type: 'upload', filename: null }, sha256: tgzSha256, size: tgz.length, description: description(i), category: CATEGORIES[i % 5], tags: [`t${i % 50}`], dependencies: sub.dependencies, build_dependencies: {} }), null);
    const status = statuses[sub.state === 'failed' ? 1 : 0]!;
    file('meta/status.json', status.text, status.mark);
    // what the index entry says of flags, tags and votes, as fsck derives it from the tree
    if (sub.stable) file('meta/flags.json', flags, 0);
    if (sub.tags.length) file('meta/tags.json', tags[i % 13]!.text, tags[i % 13]!.mark);
    if (sub.votes) file('meta/votes.json', votes[sub.votes]!.text, votes[sub.votes]!.mark);
    if (binaries) {
      newDir(`${dir}/binaries`);
      newDir(`${dir}/binaries/${ARCH}`);
      file(`binaries/${ARCH}/files.tar.gz`, binTgz, 0);
      file(`binaries/${ARCH}/manifest.json`, binaries, null);
    } else if (installable) {
      feed.push('D t/binaries\n'); // a failed build has none
    }
    feed.push(`R t ${dir}\n`);
    if (++written % 100_000 === 0) say(`${written} submission folders, ${files} files`);
  };
  for (let xx = 0; xx < 32; xx++) {
    for (let yy = 0; yy < 32; yy++) {
      const first = xx | (yy << 5) || 1024;
      if (first > folders) continue;
      dirOnce(path.posix.dirname(storePaths.portpkgDir(first)));
      for (let pkgid = first; pkgid <= folders; pkgid += 1024) {
        folder(pkgid);
        await feed.maybeFlush();
      }
    }
  }

  const readme = 'bench store\n';
  put('README.md', readme);
  inline('README.md', readme);
  for (const t of ['tpl0', 'tpl1', 'tpl2', 'tpl3', 'tpl4', 'tpl5', 'tpl6', 'tpl7', 'tplc']) feed.push(`D ${t}\n`);
  feed.push('\ndone\n');
  await feed.flush();
  fi.stdin.end();
  say(`${files} files written (${folders} submission folders); git fast-import finishing`);
  try {
    await fi;
  } catch (e) {
    throw new Error(`git fast-import failed: ${String((e as { stderr?: unknown }).stderr || (e as Error).message).trim()}`);
  }
  // the working tree equals HEAD, written in this boot of the machine: the store's open() need not
  // compare the whole tree with HEAD (store-recovery.ts, after a reboot)
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  writeFileSync(path.join(store, '.git', 'morphux-boot-id'), `${boot}\n`);
  await mkdir(path.join(data, 'state'), { recursive: true });
  await writeFile(path.join(data, 'state', 'next-pkgid'), `${total + 1}\n`);
  say(`committed ${files} files (this process's peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB)`);
}

/** Writes a store in a child process (see the script form above). */
export async function generateStoreApart(data: string, o: GenerateOptions): Promise<void> {
  await execa(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), data, String(o.packages), String(o.perPackage ?? 1), String(o.folders ?? 100), ...(o.installable ? ['installable'] : [])], { stdio: 'inherit' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [data, packages, perPackage, folders, installable] = process.argv.slice(2);
  await generateStore(data!, { packages: Number(packages), perPackage: Number(perPackage), folders: Number(folders), installable: installable === 'installable' });
}
