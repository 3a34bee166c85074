// The store's one write path: a change is one commit; a failed change leaves nothing; a change
// written but never committed (a crash) is rolled back when the store is opened again; pkgids are
// distinct under concurrent transactions.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/lib/logger.js';
import { allocatePkgid } from '../../src/store/changes/allocate-pkgid.js';
import { CommittedTree } from '../../src/store/tree/committed-tree.js';
import { Store } from '../../src/store/tree/store.js';
import { uncommittedChanges } from '../../src/store/tree/store-recovery.js';
import { journalFile } from '../../src/store/tree/store-journal.js';

describe('store transactions', () => {
  let dir: string;
  let store: Store;
  const open = async () => {
    const s = new Store({ root: path.join(dir, 'store'), stateDir: path.join(dir, 'state'), tmpDir: path.join(dir, 'tmp'), log: silentLogger });
    await s.open();
    return s;
  };
  const commits = async () => Number((await execa('git', ['rev-list', '--count', 'HEAD'], { cwd: store.root })).stdout);
  /** what differs between the working tree and HEAD, with no change under way */
  const status = () => store.locked(() => uncommittedChanges(store.root));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'store-tx-'));
    store = await open();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('commits each change once, authored by the actor', async () => {
    const n = await commits();
    await store.transact('add a', 'alice', async (tx) => { await tx.writeJson('a/x.json', { a: 1 }); await tx.write('a/y.txt', 'y'); });
    expect(await commits()).to.equal(n + 1);
    const author = (await execa('git', ['log', '-1', '--format=%an'], { cwd: store.root })).stdout;
    expect(author).to.equal('alice');
    expect(await status()).to.equal('');
  });

  it('leaves nothing behind when a change fails half-way', async () => {
    const n = await commits();
    const err = await store.transact('half', 'alice', async (tx) => {
      await tx.write('b/one.txt', '1');
      throw new Error('boom');
    }).catch((e) => e);
    expect(err).to.be.instanceOf(Error);
    expect(existsSync(path.join(store.root, 'b/one.txt'))).to.equal(false);
    expect(await commits()).to.equal(n);
    expect(await status()).to.equal('');
  });

  it('rolls back, on open, what a process killed in a change left written but not committed', async () => {
    await store.transact('keep', 'alice', async (tx) => { await tx.write('keep.txt', 'kept'); await tx.write('gone.txt', 'still here'); });
    const head = await store.head();
    const child = execa(process.execPath, ['--import', 'tsx', path.resolve('test/support/crash-in-change.ts'), dir], { reject: false });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('written')) resolve(); });
      void child.then((r) => reject(new Error(`the child ended before writing: ${r.stderr}`)));
    });
    child.kill('SIGKILL');
    await child;
    // what it left: the changes in the working tree, the journal naming them, git locks of a
    // killed update-ref
    expect(await readFile(path.join(store.root, 'keep.txt'), 'utf8')).to.equal('changed');
    expect(existsSync(path.join(store.root, 'port/portpkgs/01/00/00000001/meta/half.json'))).to.equal(true);
    expect(existsSync(journalFile(store.root))).to.equal(true);
    await writeFile(path.join(store.root, '.git/HEAD.lock'), '');
    await writeFile(path.join(store.root, '.git/refs/heads/main.lock'), '');
    await writeFile(path.join(store.root, '.keep.txt.0123456789ab.tmp'), 'half'); // a write killed before its rename
    store = await open();
    expect(await store.head()).to.equal(head);
    expect(await status()).to.equal('');
    expect(await readFile(path.join(store.root, 'keep.txt'), 'utf8')).to.equal('kept');
    expect(await readFile(path.join(store.root, 'gone.txt'), 'utf8')).to.equal('still here');
    expect(existsSync(path.join(store.root, 'port'))).to.equal(false);
    expect(existsSync(path.join(store.root, 'odd'))).to.equal(false);
    expect(existsSync(journalFile(store.root))).to.equal(false);
    await store.transact('after', 'alice', async (tx) => tx.write('after.txt', 'x')); // the branch can move again
    expect(existsSync(path.join(store.root, '.git/index')), 'the store keeps no git index').to.equal(false);
  });

  it('ignores a journal entry cut short by a crash (its change never started)', async () => {
    await store.transact('keep', 'alice', async (tx) => tx.write('keep.txt', 'kept'));
    await writeFile(path.join(store.root, 'stray.txt'), 'x'); // not journaled: left alone
    await writeFile(journalFile(store.root), 'keep.txt\0kee');
    await writeFile(path.join(store.root, 'keep.txt'), 'changed');
    store = await open();
    expect(await readFile(path.join(store.root, 'keep.txt'), 'utf8')).to.equal('kept');
    expect(await status()).to.equal('?? stray.txt');
  });

  it('compares the whole tree with HEAD once after the machine restarted (a power cut: files not on disk)', async () => {
    await store.transact('keep', 'alice', async (tx) => { await tx.write('a/keep.json', '{"v":2}'); await tx.write('b/other.json', '{}'); });
    // what a power cut can leave: a committed file that never reached the disk (old bytes, empty,
    // or gone), with an empty journal; the machine's boot id has changed since
    await writeFile(path.join(store.root, 'a/keep.json'), '');
    await rm(path.join(store.root, 'b/other.json'));
    await writeFile(path.join(store.root, 'stray.json'), '{}');
    const unchanged = await open(); // same boot: only the (empty) journal is looked at
    expect(await unchanged.locked(() => uncommittedChanges(store.root))).to.not.equal('');
    await writeFile(path.join(store.root, '.git/morphux-boot-id'), 'another boot\n');
    store = await open();
    expect(await status()).to.equal('');
    expect(await readFile(path.join(store.root, 'a/keep.json'), 'utf8')).to.equal('{"v":2}');
    expect(existsSync(path.join(store.root, 'b/other.json'))).to.equal(true);
    expect(existsSync(path.join(store.root, 'stray.json'))).to.equal(false);
    expect(await readFile(path.join(store.root, '.git/morphux-boot-id'), 'utf8')).to.equal(`${(await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim()}\n`);
  });

  it('breaks at once the lock of a process that is gone, and leaves a running change\'s work in DATA/tmp', async () => {
    const dead = execa(process.execPath, ['-e', '']);
    await dead;
    const lock = path.join(dir, 'state', 'store.lock');
    await mkdir(lock); // what a SIGKILL in a transaction leaves: a fresh lock, its owner's pid beside it
    await writeFile(`${lock}.owner`, `${dead.pid} ${os.hostname()}\n`);
    await mkdir(path.join(dir, 'tmp', 'sub-running'), { recursive: true });
    const t0 = Date.now();
    store = await open();
    expect(Date.now() - t0, 'not the 15 s staleness').to.be.lessThan(5000);
    expect(existsSync(path.join(dir, 'tmp', 'sub-running'))).to.equal(true);
    await store.transact('after', 'alice', async (tx) => tx.write('after.txt', 'x'));
    await store.locked(async () => {}); // the lock is released once the change's section has ended
    expect(existsSync(`${lock}.owner`)).to.equal(false);
  });

  it('hands out distinct pkgids to concurrent transactions, across two Store objects', async () => {
    const other = await open();
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? store : other).transact(`alloc ${i}`, 'alice', async (tx) => {
        const id = await allocatePkgid(store.stateDir);
        await tx.write(`ids/${id}`, String(i));
        return id;
      })));
    expect(new Set(ids).size).to.equal(20);
    expect(Math.min(...ids)).to.equal(1);
    expect(await status()).to.equal('');
  });
});

describe('store group commit', () => {
  let dir: string;
  let store: Store;
  const git = (...args: string[]) => store.locked(async () => (await execa('git', args, { cwd: store.root })).stdout);
  const commits = async () => Number(await git('rev-list', '--count', 'HEAD'));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'store-group-'));
    store = new Store({ root: path.join(dir, 'store'), stateDir: path.join(dir, 'state'), tmpDir: path.join(dir, 'tmp'), log: silentLogger });
    await store.open();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('commits changes made at the same moment together, each listed with its actor, none lost', async () => {
    const n = await commits();
    const done = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      store.transact(`note ${i}`, i % 2 ? 'alice' : 'bob', async (tx) => { await tx.writeJson(`notes/${i}.json`, { i }); return i; }, { group: true })));
    expect(done).to.deep.equal(Array.from({ length: 60 }, (_, i) => i));
    const made = (await commits()) - n;
    expect(made).to.be.greaterThan(0).and.lessThan(60);
    const log = await git('log', '--format=%an%n%B', `HEAD~${made}..HEAD`);
    for (let i = 0; i < 60; i++) expect(log).to.match(new RegExp(`note ${i}\\b`));
    expect(log).to.contain('morphux');
    expect((await git('ls-tree', '-r', '--name-only', 'HEAD', 'notes')).split('\n')).to.have.length(60);
    expect(await store.locked(() => uncommittedChanges(store.root))).to.equal('');
  });

  it('drops a change that fails after writing, and keeps the others of its group', async () => {
    const runs = new Map<number, number>();
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) =>
      store.transact(`c ${i}`, 'alice', async (tx) => {
        runs.set(i, (runs.get(i) ?? 0) + 1);
        await tx.write(`c/${i}.txt`, String(i));
        await tx.write('shared.txt', `last ${i}`);
        if (i === 5) throw new Error('boom after writing');
        return i;
      }, { group: true })));
    expect(results.map((r) => r.status)).to.deep.equal(results.map((_, i) => (i === 5 ? 'rejected' : 'fulfilled')));
    const files = (await git('ls-tree', '-r', '--name-only', 'HEAD', 'c')).split('\n');
    expect(files).to.have.length(9).and.not.include('c/5.txt');
    expect(existsSync(path.join(store.root, 'c/5.txt'))).to.equal(false);
    expect(await git('show', 'HEAD:shared.txt')).to.match(/^last \d$/).and.not.equal('last 5');
    expect(await store.locked(() => uncommittedChanges(store.root))).to.equal('');
    expect(runs.get(5)).to.equal(1);
  });

  it('pipelines groups (the next runs while git commits the last) and loses or keeps nothing it should not', async () => {
    const small = new Store({ root: store.root, stateDir: store.stateDir, tmpDir: store.tmpDir, log: silentLogger, groupMax: 16 });
    const n = await commits();
    const fails = (i: number) => i % 37 === 5;
    // every change rewrites one shared counter file too: the groups overwrite what the commit
    // before them is taking, which the commit must not see
    const results = await Promise.allSettled(Array.from({ length: 300 }, (_, i) =>
      small.transact(`p ${i}`, 'alice', async (tx) => {
        await tx.write(`p/${i % 10}/${i}.json`, JSON.stringify({ i }));
        const count = (await small.readJson<{ n: number }>('p/count.json'))?.n ?? 0;
        await tx.writeJson('p/count.json', { n: count + 1 });
        if (fails(i)) throw new Error('boom after writing');
        return i;
      }, { group: true })));
    const kept = results.map((r, i) => [r.status, i] as const).filter(([s]) => s === 'fulfilled').map(([, i]) => i);
    expect(kept).to.have.length(300 - Array.from({ length: 300 }, (_, i) => i).filter(fails).length);
    const files = new Set((await git('ls-tree', '-r', '--name-only', 'HEAD', 'p')).split('\n'));
    for (let i = 0; i < 300; i++) expect(files.has(`p/${i % 10}/${i}.json`), `change ${i}`).to.equal(!fails(i));
    expect(JSON.parse(await git('show', 'HEAD:p/count.json'))).to.deep.equal({ n: kept.length });
    expect(await store.locked(() => uncommittedChanges(store.root))).to.equal('');
    expect((await commits()) - n).to.be.at.least(300 / 16).and.below(300);
  });

  it('does not run the others again when a change is refused before it writes', async () => {
    const runs = new Map<number, number>();
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
      store.transact(`d ${i}`, 'alice', async (tx) => {
        runs.set(i, (runs.get(i) ?? 0) + 1);
        if (i % 3 === 0) throw new Error('refused');
        await tx.write(`d/${i}.txt`, String(i));
      }, { group: true })));
    expect(results.filter((r) => r.status === 'rejected')).to.have.length(3);
    expect([...runs.values()].every((n) => n === 1)).to.equal(true);
    expect((await git('ls-tree', '-r', '--name-only', 'HEAD', 'd')).split('\n')).to.have.length(5);
  });

  it('takes at most groupMax changes a commit, and lets an ungrouped change through between groups', async () => {
    const small = new Store({ root: store.root, stateDir: store.stateDir, tmpDir: store.tmpDir, log: silentLogger, groupMax: 10 });
    const n = await commits();
    const grouped = Array.from({ length: 100 }, (_, i) =>
      small.transact(`g ${i}`, 'alice', async (tx) => tx.write(`g/${i}`, 'x'), { group: true }));
    const alone = small.transact('alone', 'bob', async (tx) => tx.write('alone.txt', 'a'));
    await Promise.all([...grouped, alone]);
    expect((await commits()) - n).to.equal(11);
    const subjects = (await git('log', '--format=%s')).split('\n');
    expect(subjects.indexOf('alone'), 'the ungrouped change waited for every group').to.be.greaterThan(0);
  });
});

describe('reads from the last commit', () => {
  it('never see a change before its commit, and see it right after', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'store-read-'));
    const store = new Store({ root: path.join(dir, 'store'), stateDir: path.join(dir, 'state'), tmpDir: path.join(dir, 'tmp'), log: silentLogger });
    await store.open();
    const committed = new CommittedTree(path.join(store.root, '.git'));
    try {
      await store.transact('first', 'alice', async (tx) => { await tx.writeJson('s/status.json', { state: 'building' }); });
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let written!: () => void;
      const halfway = new Promise<void>((r) => { written = r; });
      const change = store.transact('second', 'alice', async (tx) => {
        await tx.writeJson('s/status.json', { state: 'good' });
        written();
        await gate; // the report is not written yet
        await tx.writeJson('s/reports/1.json', { n: 1 });
      }, { group: true });
      await halfway;
      expect(await store.readJson('s/status.json')).to.deep.equal({ state: 'good' }); // the writer's view
      expect(await committed.readJson('s/status.json')).to.deep.equal({ state: 'building' });
      expect(await committed.list('s/reports')).to.deep.equal([]);
      release();
      await change;
      expect(await committed.readJson('s/status.json')).to.deep.equal({ state: 'good' });
      expect(await committed.list('s/reports')).to.deep.equal(['1.json']);
    } finally {
      committed.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
