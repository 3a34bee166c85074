// runQemu's process handling without a VM: a stand-in "QEMU" that backgrounds a grandchild holding
// its pipes must still end (whole process group killed) on timeout, on log silence and on abort;
// the console file is capped while the live callback sees everything.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runQemu } from '../../src/builder/vm/run-qemu.js';
import { processesMentioning } from '../support/process-tree.js';

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
    expect(await processesMentioning(tag)).to.deep.equal([]);
  });

  it('kills the group when the console stays silent past the idle limit (kind idle)', async () => {
    const tag = `${path.basename(dir)}-idle`;
    const t0 = Date.now();
    const r = await runQemu({ binary: 'bash', args: stub(tag), timeoutSeconds: 60, idleSeconds: 1, consoleFile: path.join(dir, 'console.log') });
    expect(r.timedOut).to.equal(true);
    expect(r.timeoutKind).to.equal('idle');
    expect(Date.now() - t0).to.be.lessThan(10_000);
    expect(await processesMentioning(tag)).to.deep.equal([]);
  });

  it('does not count a build that keeps printing as idle', async () => {
    const r = await runQemu({
      binary: 'bash', args: ['-c', 'for i in 1 2 3 4 5 6; do echo tick $i; sleep 0.4; done'],
      timeoutSeconds: 60, idleSeconds: 1, consoleFile: path.join(dir, 'console.log'),
    });
    expect(r.timedOut).to.equal(false);
    expect(r.exitCode).to.equal(0);
  });

  it('caps the console file, not the live stream', async () => {
    let seen = 0;
    const r = await runQemu({
      binary: 'bash', args: ['-c', 'head -c 200000 /dev/zero | tr "\\0" x'], timeoutSeconds: 30,
      consoleFile: path.join(dir, 'console.log'), consoleMaxBytes: 10_000, onConsole: (c) => { seen += c.length; },
    });
    expect(r.exitCode).to.equal(0);
    expect(seen).to.equal(200_000);
    const kept = await readFile(path.join(dir, 'console.log'), 'utf8');
    expect(kept.length).to.be.within(10_000, 10_200);
    expect(kept.startsWith('x'.repeat(10_000))).to.equal(true);
  });

  it('kills the group on abort', async () => {
    const tag = `${path.basename(dir)}-abort`;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await runQemu({ binary: 'bash', args: stub(tag), timeoutSeconds: 60, consoleFile: path.join(dir, 'console.log'), signal: ac.signal });
    expect(r.aborted).to.equal(true);
    expect(r.timedOut).to.equal(false);
    expect(await processesMentioning(tag)).to.deep.equal([]);
  });

  it('kills the VM when the process that started it dies (SIGKILL)', async () => {
    const tag = `${path.basename(dir)}-orphan`;
    // a Node process runs runQemu with a long-lived stand-in (the tag only in the stand-in's command
    // line), and is SIGKILLed once the stand-in has started
    const script = `import { runQemu } from ${JSON.stringify(path.resolve('src/builder/vm/run-qemu.ts'))};
      await runQemu({ binary: 'bash', args: ['-c', 'echo started; sleep 300; : ' + process.env.ORPHAN_TAG], timeoutSeconds: 600, consoleFile: ${JSON.stringify(path.join(dir, 'c.log'))}, onConsole: () => process.stdout.write('up\\n') });`;
    const parent = execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { reject: false, buffer: false, env: { ORPHAN_TAG: tag } });
    await new Promise<void>((resolve) => parent.stdout!.once('data', () => resolve()));
    expect(await processesMentioning(tag)).to.have.length(1);
    parent.kill('SIGKILL');
    await parent;
    const until = Date.now() + 5000;
    while ((await processesMentioning(tag)).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(await processesMentioning(tag)).to.deep.equal([]);
  });

  it('reports a binary that does not exist as a spawn error', async () => {
    const r = await runQemu({ binary: path.join(dir, 'no-such-qemu'), args: [], timeoutSeconds: 5, consoleFile: path.join(dir, 'console.log') });
    expect(r.spawnError).to.be.a('string');
  });
});
