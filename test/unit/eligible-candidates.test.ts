// eligibleCandidates (service/eligible-candidates.ts): a name's candidates for dependency
// resolution, best first, with the dependencies the index carries; an entry written before the
// index had them is read from its submission_info.json, and one whose submission is gone is left out.
import { expect } from 'chai';
import type { PortIndex, PortIndexEntry } from '../../src/store/layout/port-index.js';
import { eligibleCandidates } from '../../src/service/eligible-candidates.js';
import { storePaths } from '../../src/store/layout/store-paths.js';

const entry = (pkgid: number, version: string, dependencies?: Record<string, string>): PortIndexEntry => ({
  pkgid, version, state: 'good', reason: null, submitter: 'mia', submitter_role: 'maintainer', submitted_at: '', updated_at: '',
  commit: null, stable: false, tags: [], votes: 0, failed_reports: 0, ...(dependencies ? { dependencies } : {}),
} as PortIndexEntry);

describe('eligibleCandidates: dependencies from the index, submission_info.json only for old entries', () => {
  it('takes each entry\'s dependencies from the index, reads only the entries without them, and leaves out a gone submission', async () => {
    const ix = { name: 'libx', submissions: [entry(1, '1.0', { liby: '^1' }), entry(2, '2.0'), entry(3, '1.5', {}), entry(4, '0.9')] } as unknown as PortIndex;
    const read: string[] = [];
    const infos: Record<string, unknown> = { [storePaths.submissionInfo(2)]: { dependencies: { libz: '>=2' } } };
    const ctx = {
      catalog: { get: async (name: string) => (name === 'libx' ? ix : null) },
      store: { readJson: async <T>(rel: string) => { read.push(rel); return (infos[rel] ?? null) as T | null; } },
    };
    expect(await eligibleCandidates(ctx, 'libx')).to.deep.equal([
      { pkgid: 2, name: 'libx', version: '2.0', dependencies: { libz: '>=2' } },
      { pkgid: 3, name: 'libx', version: '1.5', dependencies: {} },
      { pkgid: 1, name: 'libx', version: '1.0', dependencies: { liby: '^1' } },
    ]);
    expect(read.sort()).to.deep.equal([storePaths.submissionInfo(2), storePaths.submissionInfo(4)].sort());
    expect(await eligibleCandidates(ctx, 'nosuch')).to.deep.equal([]);
  });
});
