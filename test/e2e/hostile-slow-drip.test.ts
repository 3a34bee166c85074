// Slow and malformed clients on raw sockets against a real server with short timeouts
// (server.headers_timeout_seconds 2, server.request_timeout_seconds 3): headers or a body sent a
// byte a second are cut off with a 408 {"error":{"code":"timeout"}} after the configured time,
// nothing is written, and other clients are served meanwhile (latency printed with 50 drips open).
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { goodSubmission } from '../support/portpkgs.js';
import { bytewise, rawExchange, type RawAnswer } from '../support/raw-http.js';
import { storeSnapshot } from '../support/refusals.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';

const HEADERS_S = 2;
const REQUEST_S = 3;

describe('slow-drip and malformed clients are cut off; others are served meanwhile', function () {
  this.timeout(120_000);
  let s: TestServer;
  let alice = '';
  let pkgid = 0;
  const snapshot = async () => ({
    ...(await storeSnapshot(s.data)),
    refs: (await execa('git', ['--git-dir', path.join(s.data, 'repos', 'hello.git'), 'for-each-ref'])).stdout,
  });
  const basic = () => `Basic ${Buffer.from(`alice:${alice}`).toString('base64')}`;
  /** Headers sent at once, then a body of `n` bytes dripped one a second. */
  const dripBody = (head: string, n: number) => [head + `Content-Length: ${n}\r\n\r\n`, ...bytewise('x'.repeat(n))];

  before(async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-test-'));
    await writeFile(path.join(data, 'morphux.yaml'), `server:\n  headers_timeout_seconds: ${HEADERS_S}\n  request_timeout_seconds: ${REQUEST_S}\n`);
    s = await startTestServer({ worker: false, data });
    alice = await newUser(s, 'alice');
    pkgid = await goodSubmission(s, alice, 'hello', '1.0');
  });
  after(async () => s && (await s.close()));

  type Case = [string, () => Promise<RawAnswer>, number, string, number];
  const cases: Case[] = [
    ['headers dripped a byte a second', () => rawExchange(s.url, bytewise(`GET /api/v1/ports HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(60)}\r\n\r\n`), 1000), 408, 'timeout', HEADERS_S],
    ['a JSON body dripped a byte a second', () => rawExchange(s.url, dripBody(`POST /api/v1/pkg/${pkgid}/comments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nContent-Type: application/json\r\n`, 120), 1000), 408, 'timeout', REQUEST_S],
    ['an upload dripped a byte a second', () => rawExchange(s.url, dripBody(`POST /api/v1/submit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nContent-Type: application/gzip\r\n`, 120), 1000), 408, 'timeout', REQUEST_S],
    ['a git push body dripped a byte a second', () => rawExchange(s.url, dripBody(`POST /hello.git/git-receive-pack HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic()}\r\nContent-Type: application/x-git-receive-pack-request\r\n`, 120), 1000), 408, 'timeout', REQUEST_S],
    ['a connection that never sends a byte', () => rawExchange(s.url, [], 1000), 408, 'timeout', HEADERS_S],
    ['headers over 16 KiB', () => rawExchange(s.url, [`GET /api/v1/ports HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`]), 431, 'too_large', 0],
    ['bytes that are not HTTP', () => rawExchange(s.url, ['\u0016\u0003\u0001\u0002\u0000 not http at all\r\n\r\n']), 400, 'bad_request', 0],
    ['a request line with a control character', () => rawExchange(s.url, ['GET /api/v1/ports\u0007 HTTP/1.1\r\nHost: x\r\n\r\n']), 400, 'bad_request', 0],
    ['a Content-Length that is not a number', () => rawExchange(s.url, [`POST /api/v1/repos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nContent-Length: 12abc\r\n\r\n{"name":"x"}`]), 400, 'bad_request', 0],
  ];

  for (const [what, call, status, code, afterS] of cases) {
    it(`cuts off ${what}: ${status} ${code}${afterS ? ` after ~${afterS} s` : ''}, nothing written`, async () => {
      const before = await snapshot();
      const r = await call();
      expect(r.status, JSON.stringify(r)).to.equal(status);
      expect(r.json?.error?.code).to.equal(code);
      expect(r.json.error.message).to.be.a('string');
      if (afterS) {
        expect(r.closedAfterMs, 'not before the configured time').to.be.at.least(afterS * 1000 - 100);
        expect(r.closedAfterMs, 'long before the drip would have ended').to.be.below(afterS * 1000 + 3000);
      }
      expect(await snapshot()).to.deep.equal(before);
      expect((await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).status, 'still serving').to.equal(200);
    });
  }

  it('serves other clients while 50 slow-drip clients are connected, then cuts all 50 off', async () => {
    const timed = async (n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        const r = await api(s.url, 'GET', '/api/v1/ports?q=hello');
        ms.push(performance.now() - t0);
        expect(r.status).to.equal(200);
      }
      return ms.reduce((a, b) => a + b, 0) / ms.length;
    };
    await timed(5); // warm-up
    const baseline = await timed(20);
    const started = Date.now();
    const drips = Array.from({ length: 50 }, () => rawExchange(s.url, bytewise(`GET /api/v1/ports HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(60)}\r\n\r\n`), 1000));
    await new Promise((r) => setTimeout(r, 1100)); // every drip connected and has sent a byte
    const during = await timed(20);
    const measuredWithin = Date.now() - started;
    const answers = await Promise.all(drips);
    expect(answers.map((a) => a.status)).to.deep.equal(Array(50).fill(408));
    expect(Math.min(...answers.map((a) => a.closedAfterMs)), 'the drips were open while the others were served').to.be.above(measuredWithin);
    console.log(`      GET /api/v1/ports: ${baseline.toFixed(1)} ms alone, ${during.toFixed(1)} ms with 50 slow-drip clients connected (×${(during / baseline).toFixed(2)}); drips cut after ${Math.min(...answers.map((a) => a.closedAfterMs))}–${Math.max(...answers.map((a) => a.closedAfterMs))} ms`);
  });
});
