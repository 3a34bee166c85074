// Which of git's answers the v2 advertisement cache keeps, and under which key.
import { expect } from 'chai';
import { AdvertCache } from '../../src/server/advert-cache.js';

const headers: [string, string][] = [['Content-Type', 'application/x-git-upload-pack-advertisement']];
const v2 = Buffer.from('000eversion 2\n0015agent=git/2.39.5\n0013ls-refs=unborn\n0000');

describe('AdvertCache', () => {
  it('serves protocol v2 requests only', () => {
    expect(AdvertCache.wants('version=2')).to.equal(true);
    expect(AdvertCache.wants('object-format=sha1:version=2')).to.equal(true);
    expect(AdvertCache.wants('version=1')).to.equal(false);
    expect(AdvertCache.wants('version=20')).to.equal(false);
    expect(AdvertCache.wants(undefined)).to.equal(false);
  });

  it('keys on the Git-Protocol header and the repo config bytes', () => {
    const a = AdvertCache.key('version=2', Buffer.from('[core]\n\tbare = true\n'));
    expect(AdvertCache.key('version=2', Buffer.from('[core]\n\tbare = true\n'))).to.equal(a);
    expect(AdvertCache.key('version=2', Buffer.from('[core]\n\tbare = false\n'))).to.not.equal(a);
    expect(AdvertCache.key('version=2:object-format=sha1', Buffer.from('[core]\n\tbare = true\n'))).to.not.equal(a);
  });

  it('keeps a v2 capability advertisement and nothing else', () => {
    const c = new AdvertCache();
    c.offer('ok', { status: 200, headers, body: v2 });
    c.offer('error', { status: 500, headers, body: v2 });
    c.offer('v0', { status: 200, headers, body: Buffer.from('001e# service=git-upload-pack\n0000') });
    c.offer('sid', { status: 200, headers, body: Buffer.concat([v2.subarray(0, -4), Buffer.from('0019session-id=abc-123\n0000')]) });
    expect(c.get('ok')?.body.equals(v2)).to.equal(true);
    expect([c.get('error'), c.get('v0'), c.get('sid')]).to.deep.equal([undefined, undefined, undefined]);
  });

  it('holds a bounded number of answers, the oldest going first', () => {
    const c = new AdvertCache();
    for (let i = 0; i < 100; i++) c.offer(`k${i}`, { status: 200, headers, body: v2 });
    expect(c.size).to.equal(64);
    expect(c.get('k0')).to.equal(undefined);
    expect(c.get('k99')).to.not.equal(undefined);
  });
});
