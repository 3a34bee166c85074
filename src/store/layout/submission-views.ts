// GET /api/v1/pkg/<pkgid> answered from memory while the submission is unchanged: its meta
// folder's tree id (one `git cat-file` read of the last commit) says whether it is; only when it
// changed are its documents read again, all from that same tree (readSubmission through a reader
// pinned to it), so an answer is never a mix of two commits.
import { MorphuxError } from '../../domain/errors.js';
import type { CommittedTree, TreeReader } from '../tree/committed-tree.js';
import { readSubmission } from './read-submission.js';
import { storePaths } from './store-paths.js';

const KEPT = 4096;

/** The store read at one tree: paths under `prefix` map into it. */
function pinnedReader(tree: CommittedTree, prefix: string, oid: string): TreeReader {
  const spec = (rel: string) => {
    if (!rel.startsWith(`${prefix}/`)) throw new RangeError(`${rel} is not under ${prefix}`);
    return `${oid}:${rel.slice(prefix.length + 1)}`;
  };
  return {
    readJson: async <T>(rel: string) => {
      const o = await tree.objects.read(spec(rel));
      return o?.type === 'blob' ? (JSON.parse(o.data.toString('utf8')) as T) : null;
    },
    list: async (rel: string) => (await tree.entries(rel.slice(prefix.length + 1), oid)).map((e) => e.name),
    readAllJson: () => Promise.reject(new Error('not used by readSubmission')),
  };
}

export class SubmissionViews {
  /** by pkgid: the meta tree read and the answer made of it, least recently used first */
  private kept = new Map<number, { oid: string; json: string }>();

  constructor(private readonly tree: CommittedTree) {}

  /** The submission's view (read-submission.ts) as JSON text. */
  async json(pkgid: number): Promise<string> {
    const prefix = storePaths.meta(pkgid);
    const meta = await this.tree.objects.read(`HEAD:${prefix}`);
    if (meta?.type !== 'tree') throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
    const had = this.kept.get(pkgid);
    this.kept.delete(pkgid);
    const json = had?.oid === meta.oid ? had.json : JSON.stringify(await readSubmission(pinnedReader(this.tree, prefix, meta.oid), pkgid));
    this.kept.set(pkgid, { oid: meta.oid, json });
    if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value!);
    return json;
  }
}
