// Throttle: token buckets per kind, per user and per address (burst, refill, independence, all or
// none, bounded memory); the 429 with Retry-After that a rate_limited error becomes in the API and
// on web pages; morphux.example.yaml documenting every throttle default.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import YAML from 'yaml';
import { configSchema } from '../../src/config/config-schema.js';
import { silentLogger } from '../../src/lib/logger.js';
import { MorphuxError } from '../../src/domain/errors.js';
import { errorResponse } from '../../src/server/error-status.js';
import { htmlErrors } from '../../src/server/web/html-errors.js';
import type { AppContext } from '../../src/service/app-context.js';
import { refusal } from '../support/error-codes.js';
import { THROTTLE_KINDS, Throttle, type ThrottleKeys, type ThrottleKind } from '../../src/service/throttle.js';

/** A throttle from a partial `throttle:` section, the rest its defaults. */
const throttle = (section: Record<string, unknown>) => new Throttle(configSchema.parse({ throttle: section }).throttle);
const rule = (burst: number, per_minute: number) => ({ burst, per_minute });

async function takeTimes(t: Throttle, n: number, kind: ThrottleKind, keys: ThrottleKeys, cost = 1) {
  for (let i = 0; i < n; i++) await t.take(kind, keys, cost);
}

describe('Throttle', () => {
  it('allows a burst, then refuses with rate_limited and the seconds until a token is back', async () => {
    const t = throttle({ write: { per_user: rule(3, 1), per_address: null } });
    await takeTimes(t, 3, 'write', { user: 'alice' });
    const e = await refusal(t.take('write', { user: 'alice' }));
    expect(e.code).to.equal('rate_limited');
    expect(e.data).to.include({ retry_after_s: 60, kind: 'write', scope: 'user' }); // 1 a minute
  });

  it('retry_after_s is whole seconds and at least 1 when a token is due in under a second', async () => {
    const t = throttle({ write: { per_user: rule(1, 600), per_address: null } }); // a token per 100 ms
    await t.take('write', { user: 'alice' });
    const e = await refusal(t.take('write', { user: 'alice' }));
    expect(e.data.retry_after_s).to.equal(1);
  });

  it('refills steadily: a token is back after 1/per_minute of a minute', async () => {
    const t = throttle({ write: { per_user: rule(2, 1200), per_address: null } }); // a token per 50 ms
    await takeTimes(t, 2, 'write', { user: 'alice' });
    expect((await refusal(t.take('write', { user: 'alice' }))).code).to.equal('rate_limited');
    await sleep(120);
    await t.take('write', { user: 'alice' });
  });

  it('keeps a bucket per user and a bucket per address, independent', async () => {
    const t = throttle({ write: { per_user: rule(2, 1), per_address: rule(3, 1) } });
    await takeTimes(t, 2, 'write', { user: 'alice', address: '192.0.2.1' });
    const byUser = await refusal(t.take('write', { user: 'alice', address: '198.51.100.7' }));
    expect(byUser.data.scope).to.equal('user'); // alice is out everywhere
    await t.take('write', { user: 'bob', address: '192.0.2.1' }); // the address has one left
    const byAddress = await refusal(t.take('write', { user: 'carol', address: '192.0.2.1' }));
    expect(byAddress.data.scope).to.equal('address');
    await t.take('write', { user: 'carol', address: '198.51.100.7' });
  });

  it('takes from both buckets or neither', async () => {
    const t = throttle({ write: { per_user: rule(1, 1), per_address: rule(2, 1) } });
    await t.take('write', { user: 'alice', address: '192.0.2.1' });
    await refusal(t.take('write', { user: 'alice', address: '192.0.2.1' })); // alice's bucket is empty…
    await t.take('write', { user: 'bob', address: '192.0.2.1' }); // …and the address was not charged
  });

  it('keeps the kinds independent', async () => {
    const t = throttle({ sign_in: { per_user: rule(1, 1), per_address: rule(1, 1) } });
    const keys = { user: 'alice', address: '192.0.2.1' };
    await t.take('sign_in', keys);
    expect((await refusal(t.take('sign_in', keys))).code).to.equal('rate_limited');
    for (const kind of THROTTLE_KINDS.filter((k) => k !== 'sign_in')) await t.take(kind, keys);
  });

  it('a cost above the burst takes a full bucket', async () => {
    const t = throttle({ upload: { per_user: rule(3, 1), per_address: null } });
    await t.take('upload', { user: 'alice' }, 10);
    await refusal(t.take('upload', { user: 'alice' }));
  });

  it('check refuses like take but takes nothing', async () => {
    const t = throttle({ auth_failure: { per_address: rule(2, 1) } });
    const keys = { address: '192.0.2.1' };
    await t.check('auth_failure', keys);
    await t.take('auth_failure', keys);
    await t.check('auth_failure', keys);
    await t.check('auth_failure', keys);
    await t.take('auth_failure', keys);
    expect((await refusal(t.check('auth_failure', keys))).code).to.equal('rate_limited');
    await t.check('auth_failure', { address: '192.0.2.2' });
    expect(t.held('auth_failure', 'address')).to.equal(1); // a check creates no bucket
  });

  it('an absent key or a null bucket is not throttled', async () => {
    const t = throttle({ auth_failure: { per_user: null, per_address: rule(1, 1) }, write: { per_user: rule(1, 1), per_address: rule(1, 1) } });
    await takeTimes(t, 5, 'write', {});
    await takeTimes(t, 5, 'write', { user: null, address: null });
    await t.take('auth_failure', { user: 'alice', address: '192.0.2.1' });
    await takeTimes(t, 5, 'auth_failure', { user: 'alice' }); // no per-user bucket for auth_failure
  });

  const offs: Array<[string, () => Throttle]> = [
    ['Throttle.disabled()', () => Throttle.disabled()],
    ['enabled: false', () => throttle({ enabled: false, write: { per_user: rule(1, 1), per_address: rule(1, 1) } })],
  ];
  for (const [name, make] of offs) {
    it(`${name} lets everything through`, async () => {
      const t = make();
      for (const kind of THROTTLE_KINDS) await takeTimes(t, 50, kind, { user: 'alice', address: '192.0.2.1' });
    });
  }

  const sameAddress: Array<[string, string]> = [
    ['192.0.2.1', '::ffff:192.0.2.1'],
    ['2001:db8:1:2::1', '2001:DB8:1:2:ffff:0:0:7'],
    ['2001:db8:1:2::1', '[2001:db8:1:2::99]'],
  ];
  for (const [a, b] of sameAddress) {
    it(`${a} and ${b} share an address bucket (IPv4-mapped, IPv6 per /64)`, async () => {
      const t = throttle({ write: { per_user: null, per_address: rule(1, 1) } });
      await t.take('write', { address: a });
      await refusal(t.take('write', { address: b }));
    });
  }

  it('distinct IPv6 /64s and user names in another case are keyed as expected', async () => {
    const t = throttle({ write: { per_user: rule(1, 1), per_address: rule(1, 1) } });
    await t.take('write', { address: '2001:db8:1:2::1' });
    await t.take('write', { address: '2001:db8:1:3::1' });
    await t.take('write', { user: 'Alice' });
    await refusal(t.take('write', { user: 'alice' }));
  });

  it('holds at most max_keys buckets, and keeps the recently used ones', async () => {
    const t = throttle({ max_keys: 100, write: { per_user: null, per_address: rule(1, 1) } });
    const hot = { address: '203.0.113.9' };
    await t.take('write', hot);
    for (let i = 0; i < 1000; i++) {
      await t.take('write', { address: `10.0.${i >> 8}.${i & 255}` });
      expect((await refusal(t.take('write', hot))).code).to.equal('rate_limited'); // still empty, never dropped
    }
    expect(t.held('write', 'address')).to.be.at.most(100);
  });

  it('drops full buckets before the least recently used', async () => {
    const t = throttle({ max_keys: 100, write: { per_user: rule(1, 1), per_address: rule(1, 1) } });
    for (let i = 0; i < 80; i++) await t.take('write', { user: `u${i}`, address: `10.1.0.${i}` }); // 80 empty
    await t.take('write', { user: 'hot' });
    // refused by the user's bucket: each new address's bucket is left full, and goes first
    for (let i = 0; i < 1000; i++) await refusal(t.take('write', { user: 'hot', address: `10.2.${i >> 8}.${i & 255}` }));
    expect(t.held('write', 'address')).to.be.at.most(100);
    for (let i = 0; i < 80; i++) {
      expect((await refusal(t.take('write', { user: 'new', address: `10.1.0.${i}` }))).data.scope).to.equal('address');
    }
  });

  it('a check creates no bucket', async () => {
    const t = throttle({ write: { per_user: null, per_address: rule(1, 1) } });
    for (let i = 0; i < 100; i++) await t.check('write', { address: `10.0.0.${i}` });
    expect(t.held('write', 'address')).to.equal(0);
  });
});

describe('rate_limited over HTTP', () => {
  const limited = () => new MorphuxError('rate_limited', 'too many changes', { retry_after_s: 42 });

  it('the API answers 429 with Retry-After and the code', async () => {
    const app = new Hono();
    app.get('/x', () => { throw limited(); });
    app.onError((e, c) => errorResponse(c, e, silentLogger));
    const res = await app.request('/x');
    expect(res.status).to.equal(429);
    expect(res.headers.get('retry-after')).to.equal('42');
    expect((await res.json()).error.code).to.equal('rate_limited');
  });

  it('a web page answers 429 with Retry-After', async () => {
    const app = new Hono();
    app.get('/x', () => { throw limited(); });
    app.onError(htmlErrors({ log: silentLogger } as unknown as AppContext));
    const res = await app.request('/x');
    expect(res.status).to.equal(429);
    expect(res.headers.get('retry-after')).to.equal('42');
  });
});

describe('throttle config', () => {
  it('morphux.example.yaml documents every throttle default', async () => {
    const example = YAML.parse(await readFile(new URL('../../morphux.example.yaml', import.meta.url), 'utf8'));
    expect(example.throttle).to.deep.equal(configSchema.parse({}).throttle);
  });

  it('refuses a bucket that holds nothing or never refills', () => {
    for (const bad of [rule(0, 5), rule(5, 0), { burst: 5, per_minute: 5, extra: 1 }]) {
      expect(() => configSchema.parse({ throttle: { write: { per_user: bad } } })).to.throw();
    }
  });
});
