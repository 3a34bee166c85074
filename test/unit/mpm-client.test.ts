// mpm's HTTP client (src/mpm/client.ts, node:http) against a local server: the server's errors as
// MorphuxErrors, an absent server as infrastructure, redirects (on the origin only, the method rules,
// the hop limit), request bodies with their length, kept-alive connections (and a stale one asked
// again), bodies read whole with a limit.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_REDIRECTS, MpmClient } from '../../src/mpm/client.js';
import { isMorphuxError } from '../../src/domain/errors.js';

interface Seen { method: string; url: string; authorization?: string; length?: string; body: string; socket: number }
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void;

async function server(): Promise<{ url: string; seen: Seen[]; sockets: number; handle: Handler; close: () => Promise<void> }> {
  const s = {
    url: '', seen: [] as Seen[], sockets: 0,
    handle: ((_req, res) => res.writeHead(404).end()) as Handler,
    close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
  const ids = new WeakMap<object, number>();
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: Seen = { method: req.method!, url: req.url!, authorization: req.headers.authorization, length: req.headers['content-length'], body: Buffer.concat(chunks).toString(), socket: ids.get(req.socket)! };
      s.seen.push(seen);
      s.handle(req, res, seen);
    });
  });
  srv.on('connection', (sock) => ids.set(sock, ++s.sockets));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  s.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return s;
}

const json = (res: http.ServerResponse, status: number, v: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(v));
const redirect = (status: number, to: string) => (_req: http.IncomingMessage, res: http.ServerResponse) => res.writeHead(status, { location: to }).end('moved');
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isMorphuxError(e) ? `${e.code}: ${e.message}` : `not a MorphuxError: ${String(e)}`;
  }
  return 'no error';
}

describe('mpm client (node:http)', () => {
  let host: Awaited<ReturnType<typeof server>>;
  let other: Awaited<ReturnType<typeof server>>;
  before(async () => {
    [host, other] = await Promise.all([server(), server()]);
  });
  after(async () => Promise.all([host?.close(), other?.close()]));
  beforeEach(() => {
    host.seen.length = 0;
    other.seen.length = 0;
  });
  const client = () => new MpmClient({ server: `${host.url}/`, token: 'tok' });

  it('gives the JSON, status and headers of an answer, the token along', async () => {
    host.handle = (_req, res) => json(res, 200, { ok: 1 });
    const res = await client().request('GET', '/api/v1/x');
    expect(res.status).to.equal(200);
    expect(res.headers.get('Content-Type')).to.equal('application/json');
    expect(res.headers.get('x-none')).to.equal(null);
    expect(await res.json()).to.deep.equal({ ok: 1 });
    expect(host.seen).to.have.length(1);
    expect(host.seen[0]).to.include({ method: 'GET', url: '/api/v1/x', authorization: 'Bearer tok' });
  });

  it('turns the server\'s {"error":{code,message}} into a MorphuxError with that code; other errors by status', async () => {
    host.handle = (_req, res) => json(res, 422, { error: { code: 'dependency', message: 'no such range' } });
    expect(await refusal(client().request('GET', '/a'))).to.equal('dependency: no such range');
    host.handle = (_req, res) => res.writeHead(404).end('<html>');
    expect(await refusal(client().request('GET', '/a'))).to.equal('not_found: HTTP 404');
    host.handle = (_req, res) => json(res, 500, { error: { code: 'no_such_code', message: 'odd' } });
    expect(await refusal(client().request('GET', '/a'))).to.equal('bad_request: odd');
  });

  it('an absent server is infrastructure: cannot reach', async () => {
    const c = new MpmClient({ server: 'http://127.0.0.1:1' });
    expect(await refusal(c.request('GET', '/a'))).to.match(/^infrastructure: cannot reach http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('sends a body with its length: bytes, and JSON', async () => {
    host.handle = (_req, res) => json(res, 200, {});
    await client().request('POST', '/up', { body: Buffer.from('abc'), contentType: 'application/gzip' });
    await client().json('POST', '/j', { a: 1 });
    await client().json('DELETE', '/d');
    expect(host.seen.map((s) => [s.method, s.length, s.body])).to.deep.equal([['POST', '3', 'abc'], ['POST', '7', '{"a":1}'], ['DELETE', '0', '']]);
  });

  it('follows redirects on the origin: 303 and a POST\'s 301/302 become GET without the body, 307 keeps both', async () => {
    host.handle = (req, res) => {
      if (req.url === '/303') return redirect(303, '/to')(req, res);
      if (req.url === '/302') return redirect(302, `${host.url}/to`)(req, res);
      if (req.url === '/307') return redirect(307, 'to')(req, res);
      json(res, 200, { at: req.url });
    };
    for (const from of ['/303', '/302', '/307']) await client().request('POST', from, { json: { x: 1 } });
    expect(host.seen.map((s) => `${s.method} ${s.url} ${s.body} ${s.authorization}`)).to.deep.equal([
      'POST /303 {"x":1} Bearer tok', 'GET /to  Bearer tok',
      'POST /302 {"x":1} Bearer tok', 'GET /to  Bearer tok',
      'POST /307 {"x":1} Bearer tok', 'POST /to {"x":1} Bearer tok',
    ]);
  });

  it('refuses a redirect off the origin without asking it, and gives up after MAX_REDIRECTS hops', async () => {
    host.handle = redirect(302, `${other.url}/x`);
    expect(await refusal(client().request('GET', '/a'))).to.match(/^forbidden: refusing a redirect .* on another origin \(http:\/\/127\.0\.0\.1:\d+\)/);
    expect(other.seen).to.deep.equal([]);
    host.seen.length = 0;
    host.handle = redirect(302, '/again');
    expect(await refusal(client().request('GET', '/a'))).to.match(/^bad_request: too many redirects/);
    expect(host.seen).to.have.length(1 + MAX_REDIRECTS);
    host.seen.length = 0;
    const manual = await client().request('GET', '/a', { redirect: 'manual' });
    expect([manual.status, manual.headers.get('location')]).to.deep.equal([302, '/again']);
    manual.discard();
  });

  it('keeps connections alive: 12 requests, 4 at a time, on at most 4 connections', async () => {
    host.handle = (_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(100_000, 1));
    const c = client();
    const before = host.sockets;
    for (let round = 0; round < 3; round++) {
      const bodies = await Promise.all([0, 1, 2, 3].map(async () => (await c.request('GET', '/blob')).buffer()));
      expect(bodies.map((b) => b.length)).to.deep.equal([100_000, 100_000, 100_000, 100_000]);
    }
    expect(host.sockets - before).to.be.at.most(4);
  });

  it('asks a GET again once when its kept-alive connection was closed unanswered; a POST is not sent twice', async () => {
    const served = new Map<number, number>();
    host.handle = (req, res, seen) => {
      served.set(seen.socket, (served.get(seen.socket) ?? 0) + 1);
      if (served.get(seen.socket)! > 1) return req.socket.destroy(); // as a server closing an idle connection
      json(res, 200, { on: seen.socket });
    };
    const c = client();
    const first = await (await c.request('GET', '/a')).json<{ on: number }>();
    const second = await (await c.request('GET', '/a')).json<{ on: number }>();
    expect(second.on).to.not.equal(first.on);
    expect(await refusal(c.request('POST', '/a', { json: {} }))).to.match(/^infrastructure: cannot reach/);
    expect(host.seen.filter((s) => s.method === 'POST')).to.have.length(1);
  });

  it('reads a body whole with a limit (too_large past it), as a stream, or discards it', async () => {
    host.handle = (_req, res) => res.writeHead(200).end(Buffer.alloc(5000, 7));
    expect(await refusal((await client().request('GET', '/big')).buffer(4096, 'the plan'))).to.equal('too_large: the plan is over 4096 bytes');
    let n = 0;
    for await (const chunk of (await client().request('GET', '/big')).body) n += chunk.length;
    expect(n).to.equal(5000);
    (await client().request('GET', '/big')).discard();
    expect((await (await client().request('GET', '/big')).text()).length).to.equal(5000);
  });

  it('a body the server cuts short is infrastructure', async () => {
    host.handle = (req, res) => {
      res.writeHead(200, { 'content-length': '10000' });
      res.write(Buffer.alloc(100));
      setTimeout(() => req.socket.destroy(), 20);
    };
    expect(await refusal((await client().request('GET', '/cut')).buffer())).to.match(/^infrastructure: the answer of http:\/\/127\.0\.0\.1:\d+ was cut short/);
  });
});
