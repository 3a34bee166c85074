// The port catalog's table and its queries: pages (filters, orders, offsets) equal what filtering
// and sorting every package gives, after a load and after any mix of added, changed and removed
// packages (the orders, lookups and search text are kept up to date per package, never rebuilt);
// and the catalog over a real store follows its commits, including another process's, and
// answers GET /api/v1/pkg from a cache that a change to the submission invalidates.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/lib/logger.js';
import { CommittedTree } from '../../src/store/tree/committed-tree.js';
import { PortCatalog } from '../../src/store/catalog/port-catalog.js';
import type { PortIndex, PortIndexEntry } from '../../src/store/layout/port-index.js';
import { Interner, PORT_SORTS, summarise, type PortListItem, type PortSort } from '../../src/store/catalog/port-summary.js';
import { PortSearch } from '../../src/store/catalog/port-search.js';
import { PortTable, type PortFilter } from '../../src/store/catalog/port-table.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { Store } from '../../src/store/tree/store.js';
import { uncommittedChanges } from '../../src/store/tree/store-recovery.js';
import { SubmissionViews } from '../../src/store/layout/submission-views.js';

/** A small deterministic random source, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 2 ** 32;
  };
}

const WORDS = ['tool', 'net', 'lib', 'game', 'Fast', 'tiny', 'zip'];

function randomIndex(name: string, r: () => number): PortIndex {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const submissions: PortIndexEntry[] = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, k) => ({
    pkgid: Math.floor(r() * 1000) * 10 + k + 1, version: `1.${Math.floor(r() * 5)}`, state: pick(['good', 'failed', 'queued'] as const),
    reason: null, submitter: pick(['alice', 'bob', 'carol']), submitted_at: '2026-11-01T00:00:00Z',
    updated_at: `2026-11-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}T00:00:00Z`, commit: null,
    stable: r() < 0.2, tags: r() < 0.3 ? [pick(['u1', 'u2'])] : [], votes: Math.floor(r() * 4), failed_reports: Math.floor(r() * 2),
  }));
  return { name, description: `${pick(WORDS)} ${pick(WORDS)} ${name.length}`, category: r() < 0.1 ? null : pick(['utils', 'net', 'games']), tags: r() < 0.5 ? [pick(['t1', 't2', 't3'])] : [], submissions };
}

/** What a page must be: every package filtered and sorted, the slow way. */
function expected(ixs: Map<string, PortIndex>, f: PortFilter, sort: PortSort, offset: number, limit: number) {
  const intern = new Interner();
  const all = [...ixs.values()].map((ix) => summarise(ix, intern)).filter(({ summary: s, text }) =>
    (!f.q || text.includes(f.q)) && (!f.tag || s.tags.includes(f.tag)) && (!f.category || s.category === f.category)
    && (!f.submitter || s.submitters.includes(f.submitter)) && (f.stable === undefined || s.hasStable === f.stable)).map((x) => x.summary);
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const cmp = {
    name: byName,
    updated: (a: typeof all[0], b: typeof all[0]) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : byName(a, b)),
    votes: (a: typeof all[0], b: typeof all[0]) => b.votes - a.votes || byName(a, b),
    failures: (a: typeof all[0], b: typeof all[0]) => b.failures - a.failures || byName(a, b),
  }[sort];
  const sorted = all.sort(cmp);
  return { total: sorted.length, names: sorted.slice(offset, offset + limit).map((s) => s.name) };
}

const FILTERS: PortFilter[] = [
  {}, { q: 'tool' }, { q: 'pkg1' }, { q: 'fast t' }, { q: 'nothing' }, { tag: 't1' }, { tag: 'u2' }, { category: 'net' }, { submitter: 'bob' },
  { stable: true }, { stable: false }, { category: 'utils', tag: 't2' }, { q: 'lib', submitter: 'alice', stable: false }, { tag: 'none' },
];

function check(table: PortTable, ixs: Map<string, PortIndex>): void {
  for (const f of FILTERS) {
    for (const sort of PORT_SORTS) {
      for (const [offset, limit] of [[0, 7], [5, 50], [0, 500], [60, 10]] as const) {
        const got = table.page(f, sort, offset, limit);
        const want = expected(ixs, f, sort, offset, limit);
        const names = got.rows.map((r) => (JSON.parse(r) as PortListItem).name);
        expect({ total: got.total, names }, JSON.stringify({ f, sort, offset, limit })).to.deep.equal(want);
      }
    }
  }
}

describe('port table: pages equal filtering and sorting everything', () => {
  it('after a load, and after adding, changing and removing packages one by one', () => {
    const r = rng(7);
    const intern = new Interner();
    const ixs = new Map<string, PortIndex>();
    for (let i = 0; i < 300; i++) ixs.set(`pkg${i}`, randomIndex(`pkg${i}`, r));
    const table = new PortTable();
    const loaded = [...ixs.values()].map((ix) => summarise(ix, intern));
    table.load(loaded.map((x) => x.summary), loaded.map((x) => x.text));
    check(table, ixs);
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 60; k++) {
        const name = `pkg${Math.floor(r() * 400)}`;
        if (r() < 0.2 && ixs.has(name)) {
          ixs.delete(name);
          table.delete(name);
        } else {
          const ix = randomIndex(name, r);
          ixs.set(name, ix);
          const { summary, text } = summarise(ix, intern);
          table.set(summary, text);
        }
      }
      if (round === 3) table.tidy();
      expect(table.size).to.equal(ixs.size);
      check(table, ixs);
    }
  });

  it('the search text joined again after many changes answers the same', () => {
    const r = rng(11);
    const intern = new Interner();
    const ixs = new Map<string, PortIndex>();
    const table = new PortTable();
    for (let i = 0; i < 5000; i++) {
      const ix = randomIndex(`p${i % 1200}`, r);
      ixs.set(ix.name, ix);
      const { summary, text } = summarise(ix, intern);
      table.set(summary, text);
    }
    table.tidy();
    for (const q of ['tool', 'p11', 'zip 5', 'fast']) {
      expect(table.page({ q }, 'name', 0, 2000).total).to.equal(expected(ixs, { q }, 'name', 0, 1).total);
    }
  });
});

describe('port search: every text that contains q, and only those', () => {
  it('for pieces of the texts of every length, after a build and after changes', () => {
    const r = rng(13);
    const word = () => WORDS[Math.floor(r() * WORDS.length)]!.toLowerCase() + String(Math.floor(r() * 1000));
    const texts = Array.from({ length: 400 }, (_, i) => `p${i}\n${word()} ${word()}, ${word()} ü${word()}`);
    const search = new PortSearch();
    search.build(texts);
    const check = () => {
      for (let k = 0; k < 300; k++) {
        const t = texts[Math.floor(r() * texts.length)]!;
        const from = Math.floor(r() * t.length);
        const q = k % 10 === 0 ? `${t.slice(from, from + 6)}zz` : t.slice(from, from + 1 + Math.floor(r() * 12));
        if (!q) continue;
        const got: number[] = [];
        search.find(q, (slot) => got.push(slot));
        const want = texts.flatMap((x, slot) => (x.includes(q) ? [slot] : []));
        expect(got.sort((a, b) => a - b), JSON.stringify(q)).to.deep.equal(want);
      }
    };
    check();
    for (let i = 0; i < 150; i++) {
      const slot = Math.floor(r() * (texts.length + 20));
      while (texts.length <= slot) texts.push('');
      texts[slot] = r() < 0.2 ? '' : `n${slot}\n${word()} ${word()}`;
      if (texts[slot]) search.set(slot, texts[slot]!);
      else search.delete(slot);
    }
    check();
  });
});

describe('port catalog over a store', () => {
  let dir: string;
  let store: Store;
  let tree: CommittedTree;
  let catalog: PortCatalog;
  const put = (ix: PortIndex) => store.transact(`index ${ix.name}`, 'alice', async (tx) => tx.writeJson(storePaths.portIndex(ix.name), ix));
  const names = async (f: PortFilter, sort: PortSort = 'name') => (await catalog.page(f, sort, 0, 100)).rows.map((x) => (JSON.parse(x) as PortListItem).name);

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'port-catalog-'));
    store = new Store({ root: path.join(dir, 'store'), stateDir: path.join(dir, 'state'), tmpDir: path.join(dir, 'tmp'), log: silentLogger });
    await store.open();
    tree = new CommittedTree(path.join(store.root, '.git'));
    catalog = new PortCatalog(store, tree);
  });
  afterEach(async () => {
    tree.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads every index of the last commit (in its worker), then follows this process\'s commits per package', async () => {
    const r = rng(3);
    for (const n of ['alpha', 'beta', 'gamma']) await put({ ...randomIndex(n, r), category: 'net' });
    expect(await names({ category: 'net' })).to.deep.equal(['alpha', 'beta', 'gamma']);
    await put({ ...randomIndex('delta', r), category: 'net', description: 'a fast tool' });
    await put({ ...randomIndex('beta', r), category: 'utils' });
    expect(await names({ category: 'net' })).to.deep.equal(['alpha', 'delta', 'gamma']);
    expect(await names({ q: 'fast tool' })).to.deep.equal(['delta']);
    expect((await catalog.get('delta'))?.description).to.equal('a fast tool');
    await store.transact('drop gamma', 'alice', async (tx) => tx.remove(storePaths.portIndex('gamma')));
    expect(await names({})).to.deep.equal(['alpha', 'beta', 'delta']);
    expect(await catalog.get('gamma')).to.equal(null);
  });

  it('reads everything again when another process moved the branch', async () => {
    const r = rng(5);
    await put(randomIndex('alpha', r));
    expect(await names({})).to.deep.equal(['alpha']);
    const other = new Store({ root: store.root, stateDir: store.stateDir, tmpDir: store.tmpDir, log: silentLogger });
    await new Promise((res) => setTimeout(res, 20)); // a distinct ref mtime
    await other.transact('index omega', 'bob', async (tx) => tx.writeJson(storePaths.portIndex('omega'), randomIndex('omega', r)));
    expect(await names({})).to.deep.equal(['alpha', 'omega']);
  });

  it('answers a submission view from its cache until the submission changes', async () => {
    const views = new SubmissionViews(tree);
    const meta = storePaths.meta(42);
    await store.transact('sub 42', 'alice', async (tx) => {
      await tx.writeJson(`${meta}/submission_info.json`, { pkgid: 42, name: 'alpha', version: '1.0' });
      await tx.writeJson(`${meta}/status.json`, { state: 'queued' });
    });
    const first = JSON.parse(await views.json(42));
    expect(first.status.state).to.equal('queued');
    expect(first.comments).to.equal(0);
    await store.transact('c', 'bob', async (tx) => {
      await tx.writeJson(`${meta}/status.json`, { state: 'good' });
      await tx.writeJson(`${meta}/comments/1.json`, { text: 'hi' });
    });
    const second = JSON.parse(await views.json(42));
    expect([second.status.state, second.comments]).to.deep.equal(['good', 1]);
    const err = await views.json(43).catch((e: unknown) => e as { code?: string });
    expect((err as { code?: string }).code).to.equal('not_found');
    expect(await store.locked(() => uncommittedChanges(store.root))).to.equal('');
  });
});
