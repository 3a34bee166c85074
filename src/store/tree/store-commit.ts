// How a store change becomes a commit. The touched paths are read from the working tree (or taken
// from memory, as the change wrote them) and fed to `git fast-import`, which writes every new
// object into one pack (three fsyncs, however many objects: `fastimport.unpackLimit=1`, where
// git's default writes a commit of fewer than 100 objects loose, one fsync each — 120 ms instead of
// 43 ms for a 50-change group here) and moves the branch. `git add` would write and fsync one loose
// object per new file: ~230 fsyncs for a 200-change group commit, each a journal commit of the
// filesystem that every other file operation on it waits behind. The store keeps no git index
// (store-journal.ts): nothing here reads or writes one, so a commit's cost follows what it
// changes, not how big the store is.
//
// Crash safety: the branch moves only at fast-import's checkpoint. Killed before, the paths the
// journal names are put back to HEAD when the store is opened; killed after, they already equal
// HEAD. An interrupted pack is a tmp_pack file git never reads. The process itself, and why it
// stays between commits, is fast-importer.ts.
import { readFileSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import { FastImporter } from './fast-importer.js';
import { COMMITTER, storeGit } from './store-git.js';

/** The branch HEAD points at and its commit, read from git's ref files (no process to start). */
export function readHead(root: string): { ref: string; commit: string | null } {
  const gitDir = path.join(root, '.git');
  const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
  const ref = head.startsWith('ref: ') ? head.slice(5) : 'HEAD';
  try {
    return { ref, commit: readFileSync(path.join(gitDir, ref), 'utf8').trim() };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let packed = '';
  try {
    packed = readFileSync(path.join(gitDir, 'packed-refs'), 'utf8');
  } catch { /* none */ }
  const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
  return { ref, commit: line ? line.slice(0, line.indexOf(' ')) : null };
}

/** A path in fast-import's C-style quoting (any byte but these may appear as is). */
function quote(rel: string): string {
  return `"${rel.replace(/[\\"\x00-\x1f\x7f]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`))}"`;
}

/** "Name <email>" with the characters git's ident line cannot hold taken out. */
function ident(who: string, when: number): string {
  const m = /^(.*) <(.*)>$/.exec(who);
  const clean = (s: string) => s.replace(/[<>\n\r\0]/g, '').trim();
  return `${clean(m?.[1] ?? who) || 'unknown'} <${clean(m?.[2] ?? '')}> ${when} +0000`;
}

/** The file changes of a touched path as fast-import commands, in order: files from the working
 *  tree as they are now, a folder as a whole (removed first, so what left it leaves the commit).
 *  Asynchronous: these are the big writes (a submission's unpacked tree). */
async function* fileCommands(root: string, rel: string): AsyncGenerator<Buffer | string> {
  const abs = path.join(root, rel);
  let st;
  try {
    st = await lstat(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    yield `D ${quote(rel)}\n`;
    return;
  }
  if (st.isSymbolicLink()) {
    const target = await readlink(abs, { encoding: 'buffer' });
    yield `M 120000 inline ${quote(rel)}\ndata ${target.length}\n`;
    yield target;
    yield '\n';
  } else if (st.isFile()) {
    const data = await readFile(abs);
    yield `M ${st.mode & 0o100 ? '100755' : '100644'} inline ${quote(rel)}\ndata ${data.length}\n`;
    yield data;
    yield '\n';
  } else if (st.isDirectory()) {
    yield `D ${quote(rel)}\n`;
    yield* folderCommands(root, rel);
  } else {
    throw new MorphuxError('internal', `the store cannot hold ${rel}: not a file, folder or symlink`);
  }
}

async function* folderCommands(root: string, rel: string): AsyncGenerator<Buffer | string> {
  for (const name of (await readdir(path.join(root, rel))).sort()) {
    const child = `${rel}/${name}`;
    if ((await lstat(path.join(root, child))).isDirectory()) yield* folderCommands(root, child);
    else yield* fileCommands(root, child);
  }
}

/**
 * Commits the given paths (additions, changes and removals, files or whole folders) as they are
 * in the working tree, or as `captured` holds them (a file's bytes as written, null: removed);
 * false when that changed nothing. What is captured is not read again, so a caller may go on
 * changing the working tree while such paths are committed. Through the store's long-running
 * importer when given (fast-importer.ts), else one started for this commit.
 */
export async function commitPaths(root: string, paths: string[], message: string, author: string, captured: ReadonlyMap<string, Buffer | null> = new Map(), importer?: FastImporter): Promise<boolean> {
  if (paths.length === 0) return false;
  const own = importer ?? new FastImporter(root);
  try {
    const { ref, commit: parent } = readHead(root);
    const when = Math.floor(Date.now() / 1000);
    const msg = Buffer.from(message.endsWith('\n') ? message : `${message}\n`);
    const header = Buffer.concat([
      Buffer.from(`author ${ident(author, when)}\ncommitter ${ident(`${COMMITTER.GIT_COMMITTER_NAME} <${COMMITTER.GIT_COMMITTER_EMAIL}>`, when)}\ndata ${msg.length}\n`),
      msg,
    ]);
    return await own.commit(ref, parent, header, async (send) => {
      for (const rel of paths) {
        const bytes = captured.get(rel);
        if (bytes === null) await send(`D ${quote(rel)}\n`);
        else if (bytes) for (const chunk of [`M 100644 inline ${quote(rel)}\ndata ${bytes.length}\n`, bytes, '\n']) await send(chunk);
        else for await (const chunk of fileCommands(root, rel)) await send(chunk);
      }
    });
  } finally {
    if (!importer) await own.close();
  }
}

/**
 * Rolls the small packs and loose objects that commits leave into bigger packs (`git repack
 * --geometric`: the work is proportional to what is rolled up, not to the store). Safe beside
 * commits and readers: git removes only the packs it rolled up, and readers look packs up again
 * when one goes away.
 */
export async function repackStore(root: string): Promise<void> {
  await storeGit(root, ['repack', '-d', '-q', '--geometric=2']);
}
