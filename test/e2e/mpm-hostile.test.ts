// mpm against a hostile server (a small node:http server of its own) and an "evil" one on another
// origin: redirects off the origin are refused before the evil server sees a request (so never the
// token), server-given names and versions never make a path, pkgurls of another origin are refused
// before any request; and against a real server, a pkgurl works wherever a pkgid does.
import { expect } from 'chai';
import { bundleClis, cliErrorCode, expectOneLine as oneLine, runCli } from '../support/cli-bin.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { goodSubmission } from '../support/portpkgs.js';
import { newUser, startTestServer, type TestServer } from '../support/test-server.js';

const TOKEN = 'mpx_hostiletesttoken';

interface Seen { method: string; url: string; authorization: string | undefined }
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A loopback HTTP server that records every request and answers through `handle` (404 by default). */
async function recordingServer(): Promise<{ url: string; host: string; seen: Seen[]; handle: Handler | null; close(): Promise<void> }> {
  const me = { url: '', host: '', seen: [] as Seen[], handle: null as Handler | null, close: async () => {} };
  const srv = http.createServer((req, res) => {
    me.seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    if (me.handle) me.handle(req, res);
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no"}}');
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as AddressInfo).port;
  me.host = `127.0.0.1:${port}`;
  me.url = `http://${me.host}`;
  me.close = () => new Promise<void>((ok) => { srv.closeAllConnections(); srv.close(() => ok()); });
  return me;
}

const redirect = (status: number, location: string): Handler => (_req, res) => res.writeHead(status, { location }).end();
const json = (res: http.ServerResponse, v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));

describe('mpm against hostile servers: only the server\'s origin, checked names, pkgurls', function () {
  this.timeout(180_000);
  let host: Awaited<ReturnType<typeof recordingServer>>;
  let evil: Awaited<ReturnType<typeof recordingServer>>;
  let tmp: string;

  const mpm = (args: string[], o: { server?: string; token?: string; cwd?: string; record?: string } = {}) => runCli('mpm', args, {
    cwd: o.cwd ?? tmp,
    env: { MPM_SERVER: o.server ?? host.url, MPM_TOKEN: o.token ?? TOKEN, MPM_RECORD: o.record ?? path.join(tmp, 'record', 'fetched.json') },
  });

  before(async () => {
    [host, evil] = await Promise.all([recordingServer(), recordingServer()]);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'mpm-hostile-'));
    await bundleClis();
  });
  after(async () => {
    await Promise.all([host?.close(), evil?.close()]);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    host.seen.length = 0;
    evil.seen.length = 0;
    host.handle = null;
    evil.handle = redirect(302, '/'); // whatever it would answer, it must not be asked
  });

  const offOrigin: Array<[string, string[], string, number]> = [
    ['get NAME: the query URL 301s to the evil origin', ['get', 'hello'], '/port/hello', 301],
    ['get PKGID: the download 302s to the evil origin', ['get', '7'], '/pkg/7', 302],
    ['query: the API 307s to the evil origin', ['query'], '/api/v1/ports', 307],
    ['vote: a write 308s to the evil origin', ['vote', '7'], '/api/v1/pkg/7/vote', 308],
  ];
  for (const [what, args, at, status] of offOrigin) {
    it(`refuses a redirect off the origin, the evil server never asked: ${what}`, async () => {
      const body = Buffer.from('bytes');
      host.handle = (req, res) => {
        if (req.url?.startsWith(at)) return redirect(status, `${evil.url}/pkg/7`)(req, res);
        if (req.url === '/api/v1/pkg/7') return json(res, { submission: { name: 'hello', version: '1.0', sha256: createHash('sha256').update(body).digest('hex') } });
        res.writeHead(404).end();
      };
      const r = await mpm(args, { cwd: tmp });
      expect(r.code).to.not.equal(0);
      oneLine(r.err);
      expect(cliErrorCode(r), r.err).to.equal('forbidden');
      expect(r.err).to.include(evil.host); // names the origin refused
      expect(evil.seen).to.deep.equal([]);
      expect(host.seen.some((s) => s.url.startsWith(at) && s.authorization === `Bearer ${TOKEN}`), JSON.stringify(host.seen)).to.equal(true);
    });
  }

  it('follows a redirect within the origin (the token along), and gives up after a few hops', async () => {
    host.handle = (req, res) => {
      if (req.url?.startsWith('/api/v1/ports')) return redirect(302, '/moved/ports')(req, res);
      if (req.url === '/moved/ports') return json(res, { items: [{ name: 'hello', latest_version: '1.0', description: 'hi' }], total: 1 });
      res.writeHead(404).end();
    };
    const r = await mpm(['query']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/^hello 1\.0/);
    expect(host.seen.map((s) => s.authorization)).to.deep.equal([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    host.handle = (req, res) => redirect(302, `/api/v1/ports?again=${host.seen.length}`)(req, res);
    const loop = await mpm(['query']);
    expect(loop.code).to.not.equal(0);
    oneLine(loop.err);
    expect(host.seen.length).to.equal(2 + 1 + 5); // the first ask and five hops, no more
  });

  const badIdentities: Array<[string, { name: string; version: string }, string]> = [
    ['a name that climbs out', { name: '../../x', version: '1.0' }, 'invalid_name'],
    ['a name with a slash', { name: 'a/b', version: '1.0' }, 'invalid_name'],
    ['a version that climbs out', { name: 'hello', version: '1.0/../../y' }, 'invalid_version'],
    ['an absolute version', { name: 'hello', version: '/tmp/y' }, 'invalid_version'],
  ];
  for (const [what, identity, code] of badIdentities) {
    it(`get refuses a server-given ${what}: non-zero exit, ${code}, nothing written`, async () => {
      const body = Buffer.from('a tarball, say');
      host.handle = (req, res) => {
        if (req.url === '/port/hello') return redirect(301, '/pkg/7')(req, res);
        if (req.url === '/api/v1/pkg/7') return json(res, { submission: { ...identity, sha256: createHash('sha256').update(body).digest('hex') } });
        if (req.url === '/pkg/7') return res.writeHead(200, { 'content-type': 'application/gzip' }).end(body);
        res.writeHead(404).end();
      };
      const work = await mkdtemp(path.join(tmp, 'work-'));
      const cwd = path.join(work, 'a', 'b', 'out');
      await mkdir(cwd, { recursive: true });
      const r = await mpm(['get', 'hello'], { cwd, record: path.join(work, 'record.json') });
      expect(r.code).to.not.equal(0);
      oneLine(r.err);
      expect(cliErrorCode(r), r.err).to.equal(code);
      expect(await readdir(cwd)).to.deep.equal([]);
      expect(await readdir(work)).to.deep.equal(['a']);
      expect(await readdir(path.join(work, 'a'))).to.deep.equal(['b']);
      expect(host.seen.map((s) => s.url)).to.not.include('/pkg/7'); // refused before the download
    });
  }

  const submissionCommands: string[][] = [
    ['vote'], ['vote', '--remove'], ['flag-stable'], ['submit-report', '--status', 'ok'], ['show-reports'],
    ['comment'], ['comment', 'hi'], ['tag', 'cli'], ['info'], ['get'],
  ];
  for (const cmd of submissionCommands) {
    it(`${cmd.join(' ')} refuses a pkgurl of another origin before any request`, async () => {
      const [name, ...rest] = cmd;
      const r = await mpm([name, `${evil.url}/pkg/1`, ...rest]);
      expect(r.code).to.not.equal(0);
      oneLine(r.err);
      expect(cliErrorCode(r), r.err).to.equal('forbidden');
      expect(r.err).to.include(evil.host); // names the origin refused
      expect(host.seen).to.deep.equal([]);
      expect(evil.seen).to.deep.equal([]);
    });
  }

  const notSubmissions = ['0', 'pkg/1', '/pkg/1', 'PKGURL/port/hello', 'PKGURL/pkg/1?x=1', 'PKGURL/pkg/x', 'PKGURL/api/v1/pkg/1/vote', 'ftp://127.0.0.1/pkg/1'];
  for (const arg of notSubmissions) {
    it(`vote refuses ${arg} (not a pkgid or a pkgurl of the server) before any request`, async () => {
      const r = await mpm(['vote', arg.replace('PKGURL', host.url)]);
      expect(r.code).to.not.equal(0);
      oneLine(r.err);
      expect(cliErrorCode(r), r.err).to.be.oneOf(['bad_request', 'forbidden']);
      expect(host.seen).to.deep.equal([]);
    });
  }

  describe('a real server: a pkgurl works wherever a pkgid does', () => {
    let s: TestServer;
    let alice: string;
    let pkgid: number;
    before(async () => {
      s = await startTestServer({ worker: false });
      alice = await newUser(s, 'alice');
      pkgid = await goodSubmission(s, alice, 'hello', '1.0');
    });
    after(async () => s && (await s.close()));
    const real = (args: string[]) => mpm(['--json', ...args], { server: s.url, token: alice });

    it('vote PKGURL does what vote PKGID does', async () => {
      const byUrl = await real(['vote', `${s.url}/pkg/${pkgid}`]);
      expect(byUrl.code, byUrl.err).to.equal(0);
      expect(JSON.parse(byUrl.out)).to.include({ pkgid, votes: 1, voted: true });
      const undo = await real(['vote', String(pkgid), '--remove']);
      expect(JSON.parse(undo.out)).to.include({ pkgid, votes: 0, voted: false });
      const byId = await real(['vote', String(pkgid)]);
      expect(JSON.parse(byId.out)).to.deep.equal(JSON.parse(byUrl.out));
      const again = await real(['vote', `${s.url}/pkg/${pkgid}/`, '--remove']);
      expect(JSON.parse(again.out)).to.include({ pkgid, votes: 0 });
    });

    it('info, show-reports, tag and get take the pkgurl too', async () => {
      const url = `${s.url}/pkg/${pkgid}`;
      const [infoUrl, infoId] = await Promise.all([real(['info', url]), real(['info', String(pkgid)])]);
      expect(infoUrl.code, infoUrl.err).to.equal(0);
      expect(JSON.parse(infoUrl.out).submission).to.deep.equal(JSON.parse(infoId.out).submission);
      expect((await real(['show-reports', url])).code).to.equal(0);
      expect(JSON.parse((await real(['tag', url, 'cli'])).out).tags).to.deep.equal(['cli']);
      const out = path.join(tmp, 'real.tgz');
      const got = await real(['get', url, '-o', out]);
      expect(got.code, got.err).to.equal(0);
      expect(JSON.parse(got.out)).to.include({ pkgid, pkgurl: url, name: 'hello', version: '1.0' });
      expect(existsSync(out)).to.equal(true);
    });
  });
});
