// What every hostile-input case checks: the answer's status and error code, and that nothing was
// written (a snapshot of what the request could have changed is the same before and after), and
// that Object.prototype was not polluted along the way.
import { expect } from 'chai';
import { execa } from 'execa';
import path from 'node:path';
import { uncommittedChanges } from '../../src/store/tree/store-recovery.js';

export type Refusal = [what: string, call: () => Promise<{ status: number | null; json: any }>, status: number, code: string];

/** What differs between the store's working tree and its HEAD ('' when nothing), looked at again
 *  for up to 2 s while something does (a change of another request being committed). */
export async function storeStatus(store: string): Promise<string> {
  let dirty = '';
  for (let i = 0; i < 40; i++) {
    dirty = await uncommittedChanges(store);
    if (dirty === '') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return dirty;
}

/** The store's HEAD and `git status`: what a refused request must leave as it was. */
export async function storeSnapshot(data: string): Promise<{ head: string; dirty: string }> {
  const store = path.join(data, 'store');
  return {
    head: (await execa('git', ['rev-parse', 'HEAD'], { cwd: store })).stdout,
    dirty: await storeStatus(store),
  };
}

/** How many commits the store of data dir `data` has (a refusal adds none). */
export async function storeCommits(data: string): Promise<number> {
  return Number((await execa('git', ['rev-list', '--count', 'HEAD'], { cwd: path.join(data, 'store') })).stdout);
}

/** One `it` per case: refused with its status and code, and nothing changed. */
export function itRefusesEach(cases: Refusal[], snapshot: () => Promise<unknown>): void {
  for (const [what, call, status, code] of cases) {
    it(`refuses ${what}: ${status} ${code}`, async () => {
      const before = await snapshot();
      const r = await call();
      expect(r.status, JSON.stringify(r.json)).to.equal(status);
      expect(r.json?.error?.code).to.equal(code);
      expect(r.json.error.message).to.be.a('string');
      expect(await snapshot()).to.deep.equal(before);
      expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').to.equal(undefined);
    });
  }
}
