// The store as of its last commit, read through one long-lived `git cat-file --batch`: what reads
// are served from, so a change still being written (a group commit under way, a build's status
// before its report) is never seen half-done. The working tree (Store, also a TreeReader) is for
// writers, inside a transaction.
import { GitObjectReader, parseTree, type TreeEntry } from './git-object-reader.js';

/** Read access to a store tree: JSON documents and the names in a folder. */
export interface TreeReader {
  /** the parsed JSON file, or null when there is none */
  readJson<T>(rel: string): Promise<T | null>;
  /** names in a folder, [] when there is none */
  list(rel: string): Promise<string[]>;
  /** every <name>.json file of a folder, parsed, by name without .json (a whole index folder) */
  readAllJson<T>(rel: string): Promise<Map<string, T>>;
}

export class CommittedTree implements TreeReader {
  readonly objects: GitObjectReader;

  constructor(gitDir: string) {
    this.objects = new GitObjectReader(gitDir);
  }

  async readJson<T>(rel: string): Promise<T | null> {
    const o = await this.objects.read(`HEAD:${rel}`);
    return o?.type === 'blob' ? (JSON.parse(o.data.toString('utf8')) as T) : null;
  }

  async list(rel: string): Promise<string[]> {
    const o = await this.objects.read(`HEAD:${rel}`);
    return o?.type === 'tree' ? parseTree(o.data).map((e) => e.name) : [];
  }

  /** The folder's tree is read once and its blobs asked for by id, many in flight: a path lookup
   *  per file would inflate the (large) folder tree again for each. */
  async readAllJson<T>(rel: string): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    const o = await this.objects.read(`HEAD:${rel}`);
    if (o?.type !== 'tree') return out;
    const files = parseTree(o.data).filter((e) => e.type === 'blob' && e.name.endsWith('.json'));
    for (let i = 0; i < files.length; i += 512) {
      const batch = files.slice(i, i + 512);
      const blobs = await Promise.all(batch.map((e) => this.objects.read(e.oid)));
      blobs.forEach((b, k) => { if (b?.type === 'blob') out.set(batch[k]!.name.slice(0, -5), JSON.parse(b.data.toString('utf8')) as T); });
    }
    return out;
  }

  /** A folder's entries with their object ids, [] when there is none; `at`: a commit, HEAD by default. */
  async entries(rel: string, at = 'HEAD'): Promise<TreeEntry[]> {
    const o = await this.objects.read(`${at}:${rel}`);
    return o?.type === 'tree' ? parseTree(o.data) : [];
  }

  /**
   * Calls each(entry, bytes) for every blob of a folder whose name passes `take`, in the folder's
   * order, with at most `window` reads in flight: a whole folder is streamed through the caller
   * rather than held, so what it keeps of each file is all that stays in memory.
   */
  async eachBlob(rel: string, take: (name: string) => boolean, each: (entry: TreeEntry, data: Buffer) => void, at = 'HEAD', window = 128): Promise<void> {
    const files = (await this.entries(rel, at)).filter((e) => e.type === 'blob' && take(e.name));
    let next = 0;
    let active = 0;
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const pump = () => {
        if (failed) return;
        if (next >= files.length && active === 0) return resolve();
        while (active < window && next < files.length) {
          const e = files[next++]!;
          active++;
          this.objects.read(e.oid).then((b) => {
            active--;
            try {
              if (b?.type === 'blob') each(e, b.data);
            } catch (err) {
              failed = true;
              return reject(err);
            }
            pump();
          }, (err: unknown) => { failed = true; reject(err); });
        }
      };
      pump();
    });
  }

  close(): Promise<void> {
    return this.objects.close();
  }
}

/** Numbers of the <n>.json files in a folder, ascending. */
export async function numberedJson(tree: TreeReader, rel: string): Promise<number[]> {
  return (await tree.list(rel)).map((f) => /^(\d+)\.json$/.exec(f)).filter((m) => m).map((m) => Number(m![1])).sort((a, b) => a - b);
}

/** The <n>.json documents of a folder (comments, reports), in order. */
export async function readNumbered<T>(tree: TreeReader, rel: string): Promise<T[]> {
  const out: T[] = [];
  for (const n of await numberedJson(tree, rel)) {
    const doc = await tree.readJson<T>(`${rel}/${n}.json`);
    if (doc) out.push(doc);
  }
  return out;
}
