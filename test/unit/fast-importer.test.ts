// The store's long-running git fast-import (fast-importer.ts): one process takes commit after
// commit, each durable (on the branch, readable by any git) when it resolves; a commit that
// changes nothing leaves the branch; a commit that fails half-way lands nothing and the next one
// starts a new process; another process's commit in between is the next parent and is never
// undone; an idle importer keeps no process from exiting.
import { expect } from 'chai';
import { execa } from 'execa';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempStoreRepo } from '../support/store-repo.js';
import { FastImporter } from '../../src/store/tree/fast-importer.js';
import { commitPaths, readHead } from '../../src/store/tree/store-commit.js';

const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd })).stdout;
const header = (msg: string) => `author a <a@x> 1 +0000\ncommitter a <a@x> 1 +0000\ndata ${msg.length + 1}\n${msg}\n`;
const file = (name: string, text: string) => `M 100644 inline ${name}\ndata ${Buffer.byteLength(text)}\n${text}\n`;
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

describe('store fast-importer (one git fast-import for many commits)', () => {
  let dir: string;
  let root: string;
  let importer: FastImporter;

  beforeEach(async () => {
    ({ dir, root } = await tempStoreRepo('fast-importer-'));
    importer = new FastImporter(root, { idleMs: 60_000 });
  });
  afterEach(async () => {
    await importer.close();
    await rm(dir, { recursive: true, force: true });
  });

  const commit = (msg: string, files: Record<string, string>) => {
    const { ref, commit: from } = readHead(root);
    return importer.commit(ref, from, header(msg), async (send) => {
      for (const [name, text] of Object.entries(files)) await send(file(name, text));
    });
  };

  it('makes each commit durable on the branch before it resolves, all through one process', async () => {
    expect(await commit('first', { 'a.json': '1' })).to.equal(true);
    const pid = importer.pid;
    expect(pid).to.be.a('number');
    for (let i = 2; i <= 5; i++) {
      expect(await commit(`n${i}`, { 'a.json': String(i), [`f${i}`]: 'x' })).to.equal(true);
      // another git sees it at once: the ref and the pack are in place
      expect(await git(root, 'show', 'HEAD:a.json')).to.equal(String(i));
    }
    expect(importer.pid).to.equal(pid);
    expect((await git(root, 'log', '--format=%s')).split('\n')).to.deep.equal(['n5', 'n4', 'n3', 'n2', 'first']);
    expect(await git(root, 'rev-list', '--count', 'HEAD')).to.equal('5');
    await importer.close();
    expect(importer.pid).to.equal(undefined);
    expect(alive(pid!)).to.equal(false);
    // a closed importer starts again when asked
    expect(await commit('after close', { 'b': 'b' })).to.equal(true);
    expect(await git(root, 'show', 'HEAD:b')).to.equal('b');
  });

  it('leaves no listener behind on its stdin when a commit waits for it to drain', async () => {
    const big = 'x'.repeat(4 << 20); // more than a pipe holds: every commit waits for 'drain'
    for (let i = 0; i < 15; i++) expect(await commit(`big ${i}`, { 'big': big + i })).to.equal(true);
    const stdin = (importer as unknown as { running: { stdin: import('node:stream').Writable } }).running.stdin;
    for (const event of ['drain', 'close', 'error']) expect(stdin.listenerCount(event), event).to.be.below(4);
  });

  it('leaves the branch where it was when the tree is the parent\'s', async () => {
    await commit('one', { 'a.json': '1' });
    const head = readHead(root).commit;
    expect(await commit('same again', { 'a.json': '1' })).to.equal(false);
    expect(readHead(root).commit).to.equal(head);
    expect(await commit('changed', { 'a.json': '2' })).to.equal(true);
    expect(await git(root, 'rev-parse', 'HEAD^')).to.equal(head);
  });

  it('lands nothing of a commit that fails half-way, and the next commit starts a new process', async () => {
    await commit('one', { 'a.json': '1' });
    const head = readHead(root).commit;
    const pid = importer.pid!;
    const { ref } = readHead(root);
    let err: unknown;
    try {
      await importer.commit(ref, head, header('broken'), async (send) => {
        await send(file('a.json', 'half'));
        throw new Error('the change failed while being sent');
      });
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.contain('failed while being sent');
    expect(alive(pid)).to.equal(false);
    expect(readHead(root).commit).to.equal(head);
    expect(await commit('two', { 'a.json': '2' })).to.equal(true);
    expect(importer.pid).to.not.equal(pid);
    expect(await git(root, 'log', '--format=%s')).to.equal('two\none');
  });

  it('takes another process\'s commit as the next parent, and never moves the branch back over it', async () => {
    await commit('mine 1', { 'a.json': '1' });
    await writeFile(path.join(root, 'other.json'), 'other');
    expect(await commitPaths(root, ['other.json'], 'theirs', 'b <b@x>')).to.equal(true); // its own fast-import
    const theirs = readHead(root).commit;
    await commit('mine 2', { 'a.json': '2' });
    expect(await git(root, 'rev-parse', 'HEAD^')).to.equal(theirs);
    // while this importer idles, another commit; ending the importer leaves it in place
    await writeFile(path.join(root, 'other.json'), 'other 2');
    await commitPaths(root, ['other.json'], 'theirs 2', 'b <b@x>');
    const last = readHead(root).commit;
    await importer.close();
    expect(readHead(root).commit).to.equal(last);
    expect(await git(root, 'log', '--format=%s')).to.equal('theirs 2\nmine 2\ntheirs\nmine 1');
  });

  it('keeps no process waiting: a command that commits and never closes exits at once', async () => {
    const script = `import { FastImporter } from ${JSON.stringify(path.resolve('src/store/tree/fast-importer.ts'))};
      import { readHead } from ${JSON.stringify(path.resolve('src/store/tree/store-commit.ts'))};
      const root = process.argv.at(-1);
      const { ref, commit } = readHead(root);
      const ok = await new FastImporter(root, { idleMs: 60_000 }).commit(ref, commit, 'author a <a@x> 1 +0000\\ncommitter a <a@x> 1 +0000\\ndata 3\\nbye\\n', async (send) => send('M 100644 inline z\\ndata 1\\nz\\n'));
      console.log(ok);`;
    const t0 = performance.now();
    const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, root], { timeout: 30_000 });
    expect(r.stdout).to.equal('true');
    expect(performance.now() - t0).to.be.below(20_000); // not the 60 s the idle importer would wait
    expect(await git(root, 'show', 'HEAD:z')).to.equal('z');
  });
});
