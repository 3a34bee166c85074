// Throttling: a token bucket per kind of action (sign-in attempts, failed authentications, writes,
// uploads) and per user and per client address, configured under `throttle:`; an empty bucket is
// a rate_limited error with data.retry_after_s. The bucket arithmetic is the `limiter` package's.
import { isIPv4, isIPv6 } from 'node:net';
import { TokenBucket } from 'limiter';
import type { Config } from '../config/config-schema.js';
import { MorphuxError } from '../domain/errors.js';

export const THROTTLE_KINDS = ['sign_in', 'auth_failure', 'write', 'upload'] as const;
export type ThrottleKind = (typeof THROTTLE_KINDS)[number];
export type ThrottleScope = 'user' | 'address';
export type ThrottleConfig = Config['throttle'];
type BucketRule = NonNullable<ThrottleConfig['write']['per_user']>;

/** Who acts: either may be absent (an anonymous sign-in attempt has no user yet, an operator's
 *  command no address); an absent key takes from no bucket. */
export interface ThrottleKeys {
  user?: string | null;
  address?: string | null;
}

const SCOPES: readonly ThrottleScope[] = ['user', 'address'];
const WHAT: Record<ThrottleKind, string> = {
  sign_in: 'sign-in attempts',
  auth_failure: 'failed authentications',
  write: 'changes',
  upload: 'uploads',
};

export class Throttle {
  private readonly kinds: Map<string, KeyedBuckets> = new Map();

  constructor(config: ThrottleConfig) {
    if (!config.enabled) return;
    for (const kind of THROTTLE_KINDS) {
      for (const scope of SCOPES) {
        const rule = config[kind][`per_${scope}`];
        if (rule) this.kinds.set(`${kind}/${scope}`, new KeyedBuckets(rule, config.max_keys));
      }
    }
  }

  /** A throttle that lets everything through (tests, tools). */
  static disabled(): Throttle {
    const off = { burst: 1, per_minute: 1 };
    return new Throttle({
      enabled: false, max_keys: 100,
      sign_in: { per_user: off, per_address: off }, auth_failure: { per_user: off, per_address: off },
      write: { per_user: off, per_address: off }, upload: { per_user: off, per_address: off },
    });
  }

  /**
   * Takes `cost` tokens from the user's and the address's bucket of `kind`, both or neither: when
   * either has too few, nothing is taken and a rate_limited error says when to come back
   * (data.retry_after_s, whole seconds ≥ 1). A cost above a bucket's burst takes a full bucket.
   */
  async take(kind: ThrottleKind, keys: ThrottleKeys, cost = 1): Promise<void> {
    const buckets = this.buckets(kind, keys, true);
    refuseIfShort(kind, buckets, cost);
    // no await since the check: no other take can have drawn from these buckets in between
    for (const [, bucket] of buckets) bucket.tryRemoveTokens(Math.min(cost, bucket.bucketSize));
  }

  /** Throws as take would, but takes nothing: for a door that refuses a caller already over a
   *  limit before doing the work (checking a presented token after too many bad ones). */
  async check(kind: ThrottleKind, keys: ThrottleKeys, cost = 1): Promise<void> {
    refuseIfShort(kind, this.buckets(kind, keys, false), cost);
  }

  /** How many buckets of one kind and scope are held in memory (at most throttle.max_keys). */
  held(kind: ThrottleKind, scope: ThrottleScope): number {
    return this.kinds.get(`${kind}/${scope}`)?.size ?? 0;
  }

  private buckets(kind: ThrottleKind, keys: ThrottleKeys, create: boolean): Array<[ThrottleScope, TokenBucket]> {
    const found: Array<[ThrottleScope, TokenBucket]> = [];
    for (const scope of SCOPES) {
      const keyed = this.kinds.get(`${kind}/${scope}`);
      const raw = keys[scope];
      if (!keyed || !raw) continue;
      const key = scope === 'user' ? userKey(raw) : addressKey(raw);
      const bucket = create ? keyed.get(key) : keyed.peek(key);
      if (bucket) found.push([scope, bucket]);
    }
    return found;
  }
}

function refuseIfShort(kind: ThrottleKind, buckets: Array<[ThrottleScope, TokenBucket]>, cost: number): void {
  let waitMs = 0;
  let short: ThrottleScope = 'address';
  for (const [scope, bucket] of buckets) {
    const ms = bucket.getWaitTime(Math.min(cost, bucket.bucketSize));
    if (ms > waitMs) [waitMs, short] = [ms, scope];
  }
  if (waitMs <= 0) return;
  const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
  throw new MorphuxError('rate_limited', `too many ${WHAT[kind]} from this ${short}; try again in ${retryAfterS} s`,
    { retry_after_s: retryAfterS, kind, scope: short });
}

/**
 * The buckets of one kind and scope by key, at most maxKeys. A full bucket is the same as none, so
 * when the map is at its limit the full ones are dropped first; if that is not enough, the least
 * recently used go (down to 90%, so the sweep runs once per tenth of maxKeys new keys).
 */
class KeyedBuckets {
  private readonly map = new Map<string, TokenBucket>();

  constructor(private readonly rule: BucketRule, private readonly maxKeys: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The key's bucket without creating it (none: full). */
  peek(key: string): TokenBucket | undefined {
    return this.map.get(key);
  }

  /** The key's bucket, created full, and marked most recently used (the Map's order). */
  get(key: string): TokenBucket {
    let bucket = this.map.get(key);
    if (bucket) {
      this.map.delete(key);
    } else {
      if (this.map.size >= this.maxKeys) this.prune();
      bucket = new TokenBucket({ bucketSize: this.rule.burst, tokensPerInterval: this.rule.per_minute, interval: 'minute' });
      bucket.content = this.rule.burst; // the library's bucket starts empty; a key never seen has its whole burst
    }
    this.map.set(key, bucket);
    return bucket;
  }

  private prune(): void {
    for (const [key, bucket] of this.map) {
      bucket.drip();
      if (bucket.content >= bucket.bucketSize) this.map.delete(key);
    }
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.map.keys()) {
      if (this.map.size <= target) break;
      this.map.delete(key);
    }
  }
}

/** User names as keys: case folded, length capped (an attempted sign-in name is anyone's input). */
function userKey(name: string): string {
  return name.toLowerCase().slice(0, 64);
}

/**
 * Addresses as keys: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 (one host usually holds
 * a whole /64, so a key per address would let it pick a fresh bucket at will).
 */
function addressKey(address: string): string {
  const a = address.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped && isIPv4(mapped[1])) return mapped[1];
  if (isIPv4(a) || !isIPv6(a)) return a.slice(0, 64);
  const [head, tail = ''] = a.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, b1, b2, b3, b4) =>
    `${((+b1 << 8) | +b2).toString(16)}:${((+b3 << 8) | +b4).toString(16)}`).split('::');
  const left = head ? head.split(':') : [];
  const right = a.includes('::') && tail ? tail.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
