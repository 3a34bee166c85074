// PushedArchives (service/pushed-archives.ts): what pre-receive archived and checked, taken once by
// post-receive with the manifest it was checked as, within its count, size and age limits.
import { expect } from 'chai';
import type { Manifest } from '../../src/domain/manifest.js';
import { PushedArchives } from '../../src/service/pushed-archives.js';

const manifest = { name: 'hello', version: '1.0' } as Manifest;
/** a checked archive of n bytes */
const bytes = (n: number, fill = 1) => ({ tgz: Buffer.alloc(n, fill), manifest });

describe('pushed archives: pre-receive\'s archive, taken by post-receive', () => {
  it('gives an archive back once, for its repo and commit only', () => {
    const c = new PushedArchives();
    c.put('/r/a.git', 'c1', bytes(10));
    expect(c.take('/r/b.git', 'c1')).to.equal(undefined);
    expect(c.take('/r/a.git', 'c2')).to.equal(undefined);
    expect(c.take('/r/a.git', 'c1')).to.deep.equal(bytes(10));
    expect(c.take('/r/a.git', 'c1')).to.equal(undefined);
    expect(c.size).to.deep.equal({ items: 0, bytes: 0 });
  });
  it('keeps at most maxItems, dropping the oldest', () => {
    const c = new PushedArchives({ maxItems: 2, maxBytes: 1000, ttlMs: 60_000 });
    c.put('/r', 'c1', bytes(1)); c.put('/r', 'c2', bytes(1)); c.put('/r', 'c3', bytes(1));
    expect(c.take('/r', 'c1')).to.equal(undefined);
    expect(c.take('/r', 'c2')).to.not.equal(undefined);
    expect(c.take('/r', 'c3')).to.not.equal(undefined);
  });
  it('keeps at most maxBytes in all, and never one archive larger than that', () => {
    const c = new PushedArchives({ maxItems: 10, maxBytes: 100, ttlMs: 60_000 });
    c.put('/r', 'big', bytes(101));
    expect(c.size).to.deep.equal({ items: 0, bytes: 0 });
    c.put('/r', 'c1', bytes(60)); c.put('/r', 'c2', bytes(60));
    expect(c.size).to.deep.equal({ items: 1, bytes: 60 });
    expect(c.take('/r', 'c2')).to.deep.equal(bytes(60));
  });
  it('replaces an archive put again for the same commit, counting its bytes once', () => {
    const c = new PushedArchives();
    c.put('/r', 'c1', bytes(10, 1)); c.put('/r', 'c1', bytes(20, 2));
    expect(c.size).to.deep.equal({ items: 1, bytes: 20 });
    expect(c.take('/r', 'c1')).to.deep.equal(bytes(20, 2));
  });
  it('forgets an archive older than ttlMs', () => {
    let now = 0;
    const c = new PushedArchives({ maxItems: 10, maxBytes: 1000, ttlMs: 1000 }, () => now);
    c.put('/r', 'c1', bytes(5));
    now = 999;
    c.put('/r', 'c2', bytes(5));
    now = 1001;
    expect(c.take('/r', 'c1')).to.equal(undefined);
    expect(c.take('/r', 'c2')).to.deep.equal(bytes(5));
    expect(c.size).to.deep.equal({ items: 0, bytes: 0 });
  });
});
