// A store generated for benchmarks, written straight to disk and committed once: P packages with
// S submissions each (index/ports/<l>/<name>.json as the server writes them) and, for the first F
// pkgids, a submission folder (meta/submission_info.json and status.json). Package i is named
// <letter>pkg<i, 6 digits> (letters in turn, so the index folders share them as real names do);
// its submissions have pkgids (i-1)*S+1 … i*S.
// Run as a script (`tsx bench/support/generated-store.ts DATA P S F`) it writes one in its own
// process, so a bench that measures afterwards does not carry the writing's heap.
import { execa } from 'execa';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { storePaths } from '../../src/store/store-paths.js';

export const CATEGORIES = ['utils', 'libs', 'net', 'devel', 'games'];
export const pkgName = (i: number) => `${'abcdefghijklmnopqrstuvwxyz'[i % 26]}pkg${String(i).padStart(6, '0')}`;

export interface GenerateOptions {
  packages: number;
  perPackage?: number;
  /** submission folders for pkgids 1..folders */
  folders?: number;
}

export async function generateStore(data: string, o: GenerateOptions): Promise<void> {
  const perPackage = o.perPackage ?? 1;
  const folders = o.folders ?? 100;
  const store = path.join(data, 'store');
  await mkdir(store, { recursive: true });
  await execa('git', ['init', '-q', '-b', 'main'], { cwd: store });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const made = new Set<string>();
  const pending: Promise<void>[] = [];
  const flush = async () => { await Promise.all(pending.splice(0)); };
  for (let i = 1; i <= o.packages; i++) {
    const name = pkgName(i);
    const description = `package number ${i}, a ${CATEGORIES[i % 5]} tool`;
    const submissions = [];
    for (let k = 0; k < perPackage; k++) {
      const pkgid = (i - 1) * perPackage + k + 1;
      const failed = pkgid % 10 === 0;
      submissions.push({
        pkgid, version: `1.${k}.${i % 17}`, state: failed ? 'failed' : 'good', reason: failed ? 'build' : null, submitter: 'alice',
        submitted_at: now, updated_at: now, commit: null, stable: k === perPackage - 1 && i % 3 === 0, tags: k % 4 ? [] : [`u${i % 13}`],
        votes: (i + k) % 7, failed_reports: 0,
      });
      if (pkgid <= folders) {
        const meta = path.join(store, storePaths.meta(pkgid));
        await mkdir(meta, { recursive: true });
        await writeFile(path.join(meta, 'submission_info.json'), JSON.stringify({ pkgid, name, version: submissions[k]!.version, submitter: 'alice', submitted_at: now, source: { type: 'upload', filename: null }, sha256: '0'.repeat(64), size: 1, description, category: CATEGORIES[i % 5], tags: [`t${i % 50}`], dependencies: {}, build_dependencies: {} }));
        await writeFile(path.join(meta, 'status.json'), JSON.stringify({ state: submissions[k]!.state, reason: submissions[k]!.reason, message: null, updated_at: now, attempts: 1, build: null }));
      }
    }
    const index = { name, description, category: CATEGORIES[i % 5], tags: [`t${i % 50}`], submissions };
    const ixFile = path.join(store, storePaths.portIndex(name));
    const dir = path.dirname(ixFile);
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    pending.push(writeFile(ixFile, JSON.stringify(index, null, 2) + '\n'));
    if (pending.length >= 256) await flush();
  }
  await flush();
  await writeFile(path.join(store, 'README.md'), 'bench store\n');
  await mkdir(path.join(data, 'state'), { recursive: true });
  await writeFile(path.join(data, 'state', 'next-pkgid'), `${o.packages * perPackage + 1}\n`);
  await execa('git', ['add', '-A'], { cwd: store });
  await execa('git', ['-c', 'user.name=bench', '-c', 'user.email=b@b', 'commit', '-qm', 'bench data'], { cwd: store });
}

/** Writes a store in a child process (see the script form above). */
export async function generateStoreApart(data: string, o: GenerateOptions): Promise<void> {
  await execa(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), data, String(o.packages), String(o.perPackage ?? 1), String(o.folders ?? 100)], { stdio: 'inherit' });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [data, packages, perPackage, folders] = process.argv.slice(2);
  await generateStore(data!, { packages: Number(packages), perPackage: Number(perPackage), folders: Number(folders) });
}
