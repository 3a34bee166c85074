// runQemu's process handling without a VM: a stand-in "QEMU" that backgrounds a grandchild holding
// its pipes must still end (whole process group killed) on timeout and on abort.
import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runQemu } from '../../src/builder/vm/run-qemu.js';

async function pidsMentioning(text: string): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { if ((await readFile(`/proc/${p}/cmdline`, 'utf8')).includes(text)) out.push(Number(p)); } catch { /* gone */ }
  }
  return out;
}

describe('runQemu process group handling', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'vm-run-qemu-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  // the grandchild is a bash whose command line carries the tag, so it can be looked for afterwards
  const stub = (tag: string) => ['-c', `bash -c 'sleep 300; : ${tag}-grandchild' & echo started; sleep 301; : ${tag}`];

  it('kills the group at the time limit and streams the console', async () => {
    const tag = path.basename(dir);
    const seen: Buffer[] = [];
    const t0 = Date.now();
    const r = await runQemu({ binary: 'bash', args: stub(tag), timeoutSeconds: 1, consoleFile: path.join(dir, 'console.log'), onConsole: (c) => seen.push(c) });
    expect(r.timedOut).to.equal(true);
    expect(Date.now() - t0).to.be.lessThan(10_000);
    expect(Buffer.concat(seen).toString()).to.include('started');
    expect(await readFile(path.join(dir, 'console.log'), 'utf8')).to.include('started');
    expect(await pidsMentioning(tag)).to.deep.equal([]);
  });

  it('kills the group on abort', async () => {
    const tag = `${path.basename(dir)}-abort`;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await runQemu({ binary: 'bash', args: stub(tag), timeoutSeconds: 60, consoleFile: path.join(dir, 'console.log'), signal: ac.signal });
    expect(r.aborted).to.equal(true);
    expect(r.timedOut).to.equal(false);
    expect(await pidsMentioning(tag)).to.deep.equal([]);
  });

  it('reports a binary that does not exist as a spawn error', async () => {
    const r = await runQemu({ binary: path.join(dir, 'no-such-qemu'), args: [], timeoutSeconds: 5, consoleFile: path.join(dir, 'console.log') });
    expect(r.spawnError).to.be.a('string');
  });
});
