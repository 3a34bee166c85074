// The catalog's whole load, in a worker thread: every index file of one commit is read through
// the worker's own `git cat-file --batch`, parsed and summarised there, and only the summaries
// come back. Parsing a million submissions (300 MB of JSON at 100k packages) leaves a heap that
// V8 keeps long after; in a worker that heap goes away with the thread.
import { parentPort, workerData } from 'node:worker_threads';
import { CommittedTree } from '../tree/committed-tree.js';
import type { PortIndex } from '../layout/port-index.js';
import { Interner, summarise, type PortSummary } from './port-summary.js';
import { storePaths } from '../layout/store-paths.js';

export interface LoadRequest {
  gitDir: string;
}

export interface LoadResult {
  /** the commit read */
  commit: string | null;
  summaries: PortSummary[];
  texts: string[];
  /** each summary's index file blob id */
  oids: string[];
}

async function load({ gitDir }: LoadRequest): Promise<LoadResult> {
  const tree = new CommittedTree(gitDir);
  try {
    const head = await tree.objects.read('HEAD');
    const commit = head?.type === 'commit' ? head.oid : null;
    const out: LoadResult = { commit, summaries: [], texts: [], oids: [] };
    if (!commit) return out;
    const intern = new Interner();
    // the commit's id, not HEAD: one commit's indexes, even if the branch moves meanwhile
    for (const letter of await tree.entries(storePaths.portIndexRoot, commit)) {
      if (letter.type !== 'tree') continue;
      await tree.eachBlob(`${storePaths.portIndexRoot}/${letter.name}`, (f) => f.endsWith('.json'), (e, data) => {
        out.oids.push(e.oid);
        const { summary, text } = summarise(JSON.parse(data.toString('utf8')) as PortIndex, intern);
        out.summaries.push(summary);
        out.texts.push(text);
      }, commit);
    }
    return out;
  } finally {
    await tree.close(); // reaped here: the thread's end would leave it a zombie
  }
}

if (parentPort) {
  const port = parentPort;
  load(workerData as LoadRequest).then((r) => port.postMessage({ ok: r }), (e: unknown) => port.postMessage({ error: String((e as Error)?.stack ?? e) }));
}
