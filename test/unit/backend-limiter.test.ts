// BackendLimiter: slots in arrival order, a bounded queue, waiters that leave (pure logic).
import { expect } from 'chai';
import { BackendLimiter, type Release } from '../../src/server/backend-limiter.js';

const slot = (x: Release | 'full' | 'gone'): Release => {
  if (typeof x !== 'function') throw new Error(`expected a slot, got ${x}`);
  return x;
};

describe('BackendLimiter', () => {
  it('grants up to max at once, then queues in arrival order, then says full', async () => {
    const l = new BackendLimiter(2, 2);
    const a = slot(await l.acquire());
    slot(await l.acquire());
    const order: string[] = [];
    const c = l.acquire().then((r) => { order.push('c'); return slot(r); });
    const d = l.acquire().then((r) => { order.push('d'); return slot(r); });
    expect(await l.acquire()).to.equal('full');
    expect([l.active, l.queued]).to.deep.equal([2, 2]);
    a();
    a(); // a second release frees nothing more
    await c;
    expect(order).to.deep.equal(['c']);
    expect([l.active, l.queued]).to.deep.equal([2, 1]);
    (await c)();
    (await d)();
    expect(order).to.deep.equal(['c', 'd']);
    expect(l.active).to.equal(1);
  });

  it('drops a waiter whose signal aborts, and passes its turn on', async () => {
    const l = new BackendLimiter(1, 5);
    const a = slot(await l.acquire());
    const gone = new AbortController();
    const w1 = l.acquire(gone.signal);
    const w2 = l.acquire();
    gone.abort();
    expect(await w1).to.equal('gone');
    expect(l.queued).to.equal(1);
    a();
    slot(await w2)();
    expect([l.active, l.queued]).to.deep.equal([0, 0]);
    expect(await l.acquire(gone.signal)).to.equal('gone');
  });

  it('with a queue of 0 refuses at once when all slots are taken', async () => {
    const l = new BackendLimiter(1, 0);
    const a = slot(await l.acquire());
    expect(await l.acquire()).to.equal('full');
    a();
    slot(await l.acquire());
  });

  it('refuses nonsense limits', () => {
    expect(() => new BackendLimiter(0, 1)).to.throw(RangeError);
    expect(() => new BackendLimiter(1, -1)).to.throw(RangeError);
  });
});
