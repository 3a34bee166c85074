// Git hosting end to end: a real node:http server with the git handler, an in-test hook server
// that reads the hook protocol (domain/hook-protocol.ts) and applies checkPush, and the real git
// client cloning and pushing over smart HTTP.
import { expect } from 'chai';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hookReplyToWire, hookRequestFromWire, isHookName, refusalLine, type HookReply, type HookRequest } from '../../src/domain/hook-protocol.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
import { checkPush } from '../../src/repos/check-push.js';
import { createRepo, listRepos } from '../../src/repos/create-repo.js';
import { repoDir } from '../../src/repos/repo-paths.js';
import { BackendLimiter } from '../../src/server/backend-limiter.js';
import { createGitHttpHandler, type GitHttpOptions } from '../../src/server/git-http.js';
import { refusalsIn } from '../support/git-client.js';

const HOOK_SCRIPT = fileURLToPath(new URL('../../src/hooks/hook-client.sh', import.meta.url));
const HOOK_TOKEN = 'hook-secret';
const USERS: Record<string, { token: string; maintainer: boolean }> = {
  alice: { token: 'alice-token', maintainer: true },
  bob: { token: 'bob-token', maintainer: false },
};

type HookCall = Omit<HookRequest, 'hook'> & { hook: string; ms: number };

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function startHookServer(reposRoot: string, calls: HookCall[]): http.Server {
  return http.createServer(async (req, res) => {
    const started = Date.now();
    const reply = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(text);
    };
    if (req.headers.authorization !== `Bearer ${HOOK_TOKEN}`) return reply(401, '{"error":{"code":"unauthenticated"}}');
    const hook = req.url!.slice(1);
    if (!isHookName(hook)) return reply(404, 'no such hook');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const header = (h: string) => (typeof req.headers[h] === 'string' ? req.headers[h] as string : undefined);
    const body = hookRequestFromWire(hook, header, Buffer.concat(chunks).toString('utf8'));
    let answer: HookReply;
    if (hook === 'pre-receive') {
      const verdict = await checkPush({ gitdir: repoDir(reposRoot, body.repo), repoName: body.repo, updates: body.updates, quarantine: body.quarantine ?? undefined });
      answer = { ok: verdict.ok, messages: verdict.refusals.map(refusalLine) };
    } else {
      const versions = body.updates.filter((u) => u.ref.startsWith('refs/heads/version-'));
      answer = { ok: true, messages: versions.length ? ['submission 0 queued: test'] : [] };
    }
    calls.push({ ...body, hook, ms: Date.now() - started });
    const wire = hookReplyToWire(hook, answer);
    reply(wire.status, wire.text);
  });
}

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}
function request(port: number, method: string, urlPath: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('git hosting over smart HTTP (e2e)', function () {
  this.timeout(60_000);
  let tmp: string;
  let reposRoot: string;
  let work: string;
  let port: number;
  let server: http.Server;
  let hookServer: http.Server;
  const calls: HookCall[] = [];
  const pushTimes: number[] = [];
  let gitEnv: Record<string, string>;
  let options: GitHttpOptions;

  const url = (user?: string, password?: string, repo = 'hello', p = port) =>
    `http://${user ? `${user}:${password}@` : ''}127.0.0.1:${p}/${repo}.git`;
  const git = (args: string[], cwd = work) =>
    execa('git', ['-c', 'credential.helper=', ...args], { cwd, env: gitEnv, extendEnv: false, reject: false, all: true });
  const gitOk = async (args: string[], cwd = work) => {
    const r = await git(args, cwd);
    if (r.exitCode !== 0) throw new Error(`git ${args.join(' ')} failed:\n${r.all}`);
    return r.stdout;
  };
  const push = async (args: string[], user = 'alice') => {
    const started = Date.now();
    const r = await git(['push', '--porcelain', url(user, USERS[user]?.token ?? 'wrong'), ...args]);
    pushTimes.push(Date.now() - started);
    return r;
  };
  /** The server's refs, as `ref -> commit`. */
  const remoteRefs = async () => {
    const out = await gitOk(['ls-remote', url()], tmp);
    return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split('\t').reverse()));
  };
  const commitFiles = async (message: string, files: Record<string, string | null>) => {
    for (const [name, text] of Object.entries(files)) {
      if (text === null) await unlink(path.join(work, name)).catch(() => {});
      else await writeFile(path.join(work, name), text);
    }
    await gitOk(['add', '-A']);
    await gitOk(['commit', '-q', '--allow-empty', '-m', message]);
    return (await gitOk(['rev-parse', 'HEAD'])).trim();
  };
  const manifest = (name: string, version: string) => JSON.stringify({ name, version, build: ['make'] }, null, 2);
  let c1 = ''; // the good version-1.0 commit

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'morphux-git-http-'));
    reposRoot = path.join(tmp, 'repos');
    work = path.join(tmp, 'work');
    await mkdir(reposRoot);
    await mkdir(path.join(tmp, 'home'));
    await createRepo(reposRoot, 'hello');
    hookServer = startHookServer(reposRoot, calls);
    const hookPort = await listen(hookServer);
    options = {
      reposRoot,
      log: process.env.GIT_HTTP_DEBUG ? createLogger('debug') : silentLogger, // GIT_HTTP_DEBUG=1 to see it
      authenticate: async (name, password) => (USERS[name]?.token === password ? { name } : null),
      mayPush: async (user) => USERS[user.name]?.maintainer === true,
      hookEnv: {
        MORPHUX_HOOK_URL: `http://127.0.0.1:${hookPort}`,
        MORPHUX_HOOK_TOKEN: HOOK_TOKEN,
        MORPHUX_HOOK_SCRIPT: HOOK_SCRIPT,
      },
    };
    const handler = createGitHttpHandler(options);
    server = http.createServer((req, res) => {
      if (handler.matches(req)) handler.handle(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    port = await listen(server);
    gitEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: path.join(tmp, 'home'),
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.org',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.org',
    };
  });

  after(async () => {
    server?.close();
    hookServer?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    const pre = calls.filter((c) => c.hook === 'pre-receive').map((c) => c.ms);
    if (pushTimes.length) {
      const avg = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1));
      console.log(`      git pushes: ${pushTimes.length}, mean ${avg(pushTimes)} ms, max ${Math.max(...pushTimes)} ms; pre-receive check in the hook server: mean ${avg(pre)} ms`);
    }
  });

  it('clones an empty repo anonymously', async () => {
    const r = await git(['clone', '-q', url(), work], tmp);
    expect(r.exitCode, r.all).to.equal(0);
  });

  it('accepts a push to master (no checks, no build)', async () => {
    await commitFiles('readme', { README: 'hello\n' });
    const r = await push(['HEAD:refs/heads/master']);
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).not.to.match(/submission/);
    expect((await remoteRefs())['refs/heads/master']).to.equal((await gitOk(['rev-parse', 'HEAD'])).trim());
  });

  it('accepts a good version push and prints the post-receive message', async () => {
    c1 = await commitFiles('hello 1.0', { 'package.json': manifest('hello', '1.0'), Makefile: 'all:\n\ttrue\n' });
    const r = await push(['HEAD:refs/heads/version-1.0']);
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.match(/^remote: submission 0 queued: test/m);
    expect((await remoteRefs())['refs/heads/version-1.0']).to.equal(c1);
    const pre = calls.filter((c) => c.hook === 'pre-receive').at(-1)!;
    expect(pre).to.include({ repo: 'hello', pusher: 'alice' });
    expect(pre.updates).to.deep.equal([{ old: '0'.repeat(40), new: c1, ref: 'refs/heads/version-1.0' }]);
    expect(pre.quarantine?.GIT_QUARANTINE_PATH).to.be.a('string');
    expect(calls.at(-1)).to.include({ hook: 'post-receive', pusher: 'alice' });
  });

  it('serves the pushed tree to an anonymous clone', async () => {
    const dest = path.join(tmp, 'clone2');
    await gitOk(['clone', '-q', '--branch', 'version-1.0', url(), dest], tmp);
    expect(await readdir(dest)).to.include.members(['package.json', 'Makefile', 'README']);
  });

  describe('who may push', () => {
    const cases = [
      { title: 'no credentials', creds: null, why: /401|Authentication failed|could not read Username/ },
      { title: 'a wrong token', creds: ['alice', 'not-the-token'], why: /Authentication failed|401/ },
      { title: 'an unknown user', creds: ['mallory', 'x'], why: /Authentication failed|401/ },
      { title: 'a user who is not a maintainer', creds: ['bob', 'bob-token'], why: /403/ },
    ] as const;
    for (const c of cases) {
      it(`refuses a push with ${c.title}, leaving the refs alone`, async () => {
        const before = await remoteRefs();
        await gitOk(['checkout', '-q', '--detach', c1]);
        await commitFiles(`by ${c.title}`, { 'package.json': manifest('hello', '1.0'), extra: c.title });
        const r = await git(['push', c.creds ? url(c.creds[0], c.creds[1]) : url(), 'HEAD:refs/heads/master', 'HEAD:refs/heads/version-1.0']);
        expect(r.exitCode).to.not.equal(0);
        expect(r.all).to.match(c.why);
        expect(await remoteRefs()).to.deep.equal(before);
      });
    }

    it('answers 401 with a Basic challenge to the receive-pack advertisement', async () => {
      const r = await request(port, 'GET', '/hello.git/info/refs?service=git-receive-pack');
      expect(r.status).to.equal(401);
      expect(r.headers['www-authenticate']).to.equal('Basic realm="morphux"');
      const bad = await request(port, 'GET', '/hello.git/info/refs?service=git-receive-pack', { authorization: basic('alice', 'nope') });
      expect(bad.status).to.equal(401);
      const bob = await request(port, 'GET', '/hello.git/info/refs?service=git-receive-pack', { authorization: basic('bob', 'bob-token') });
      expect(bob.status).to.equal(403);
      const ok = await request(port, 'GET', '/hello.git/info/refs?service=git-receive-pack', { authorization: basic('alice', 'alice-token') });
      expect(ok.status).to.equal(200);
      expect(ok.headers['content-type']).to.equal('application/x-git-receive-pack-advertisement');
    });

    it('checks auth on a hand-made receive-pack POST too: nothing is written', async () => {
      const before = await remoteRefs();
      await gitOk(['checkout', '-q', '--detach', c1]);
      const evil = await commitFiles('evil', { evil: 'x' });
      const pack = (await execa('git', ['pack-objects', '--revs', '--stdout', '-q'], { cwd: work, input: `${evil}\n^${c1}\n`, encoding: 'buffer', stripFinalNewline: false })).stdout;
      const line = `${'0'.repeat(40)} ${evil} refs/heads/evil\0report-status\n`;
      const pkt = `${(line.length + 4).toString(16).padStart(4, '0')}${line}0000`;
      const body = Buffer.concat([Buffer.from(pkt), Buffer.from(pack)]);
      const headers = { 'content-type': 'application/x-git-receive-pack-request' };
      for (const [auth, status] of [[undefined, 401], [basic('alice', 'wrong'), 401], [basic('bob', 'bob-token'), 403]] as const) {
        const r = await request(port, 'POST', '/hello.git/git-receive-pack', auth ? { ...headers, authorization: auth } : headers, body);
        expect(r.status).to.equal(status);
      }
      expect(await remoteRefs()).to.deep.equal(before);
      const seen = await execa('git', ['--git-dir', repoDir(reposRoot, 'hello'), 'cat-file', '-e', evil], { reject: false });
      expect(seen.exitCode).to.not.equal(0);
    });
  });

  describe('push checks on version branches', () => {
    const M = (name: string, version: string) => ({ 'package.json': manifest(name, version) });
    const cases: { title: string; branch: string; code: string; files?: Record<string, string | null>; rewrite?: boolean; remove?: boolean }[] = [
      { title: 'no package.json', branch: 'version-2.0', code: 'invalid_manifest', files: { 'package.json': null } },
      { title: 'package.json that is not JSON', branch: 'version-2.0', code: 'invalid_manifest', files: { 'package.json': '{ "name": "hello",' } },
      { title: 'package.json without a version', branch: 'version-2.0', code: 'invalid_manifest', files: { 'package.json': '{"name":"hello"}' } },
      { title: 'the wrong name', branch: 'version-2.0', code: 'name_mismatch', files: M('other', '2.0') },
      { title: 'the wrong version', branch: 'version-2.0', code: 'version_mismatch', files: M('hello', '3.0') },
      { title: 'a branch naming no version', branch: 'version-', code: 'version_mismatch', files: M('hello', '2.0') },
      { title: 'a rewritten version branch', branch: 'version-1.0', code: 'non_fast_forward', rewrite: true },
      { title: 'a deleted version branch', branch: 'version-1.0', code: 'branch_deletion', remove: true },
    ];
    for (const c of cases) {
      it(`refuses ${c.title} (${c.code}) with a remote: line, branch unchanged`, async () => {
        const before = await remoteRefs();
        await gitOk(['checkout', '-q', '--detach', c1]);
        let spec = `HEAD:refs/heads/${c.branch}`;
        if (c.files) await commitFiles(c.title, c.files);
        if (c.rewrite) await gitOk(['commit', '-q', '--amend', '-m', 'rewritten history']);
        if (c.remove) spec = `:refs/heads/${c.branch}`;
        const r = await push(['--force', spec]);
        expect(r.exitCode, r.all).to.not.equal(0);
        const refusals = refusalsIn(r.all);
        expect(refusals.map((x) => x.code), r.all).to.deep.equal([c.code]);
        expect(refusals[0].message.startsWith(`${c.branch}: `), r.all).to.equal(true);
        expect(r.all).not.to.match(/submission/);
        expect(await remoteRefs()).to.deep.equal(before);
      });
    }

    it('accepts a fast-forward of a version branch and other branches without package.json', async () => {
      await gitOk(['checkout', '-q', '--detach', c1]);
      const c2 = await commitFiles('fix', { 'hello.c': 'int main(void) { return 0; }\n' });
      const r = await push(['HEAD:refs/heads/version-1.0']);
      expect(r.exitCode, r.all).to.equal(0);
      await commitFiles('wip', { 'package.json': null });
      const r2 = await push(['HEAD:refs/heads/feature', 'HEAD:refs/tags/version-9']);
      expect(r2.exitCode, r2.all).to.equal(0);
      const refs = await remoteRefs();
      expect(refs['refs/heads/version-1.0']).to.equal(c2);
      expect(refs['refs/heads/feature']).to.be.a('string');
    });
  });

  describe('robustness', () => {
    const backends = async () => {
      // git-http-backend and the git it runs; not other suites' long-lived readers (git cat-file --batch)
      const r = await execa('ps', ['-o', 'pid=,stat=,args=', '--ppid', String(process.pid)], { reject: false });
      return r.stdout.split('\n').filter((l) => l.includes('git') && !l.includes('cat-file'));
    };
    const waitNoBackends = async () => {
      for (let i = 0; i < 50 && (await backends()).length; i++) await new Promise((r) => setTimeout(r, 100));
      return backends();
    };

    it('survives a client that disconnects mid-pack, and kills the backend', async () => {
      const before = await remoteRefs();
      let midway: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => {
          sock.write(
            'POST /hello.git/git-receive-pack HTTP/1.1\r\nHost: x\r\n' +
              `Authorization: ${basic('alice', 'alice-token')}\r\n` +
              'Content-Type: application/x-git-receive-pack-request\r\nContent-Length: 1000000\r\n\r\n',
          );
          const line = `${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/x\0report-status\n`;
          sock.write(`${(line.length + 4).toString(16).padStart(4, '0')}${line}0000`);
          // a pack header promising 1000 objects, then nothing: git waits for the rest
          sock.write(Buffer.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0x03, 0xe8]));
          setTimeout(async () => {
            midway = await backends(); // git is waiting for the rest of the pack
            sock.destroy();
            resolve();
          }, 300);
        });
        sock.on('error', reject);
      });
      expect(midway.join('\n')).to.match(/git-http-backen/);
      expect(await waitNoBackends()).to.deep.equal([]);
      expect(await remoteRefs()).to.deep.equal(before);
    });

    describe("a fetch's pack, written by git straight onto the socket", () => {
      const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, '0')}${s}`;
      const FETCH_HEADERS = { 'content-type': 'application/x-git-upload-pack-request', 'git-protocol': 'version=2' };
      let tip = '';
      before(async () => {
        // a 16 MiB random blob: more than loopback's socket buffers hold, so git waits on a client that stops reading
        await createRepo(reposRoot, 'bigone');
        const blob = randomBytes(16 << 20);
        const stream = Buffer.concat([
          Buffer.from(`blob\nmark :1\ndata ${blob.length}\n`), blob,
          Buffer.from('\ncommit refs/heads/master\ncommitter T <t@example.org> 0 +0000\ndata 3\nbig\nM 100644 :1 big\n\n'),
        ]);
        await execa('git', ['fast-import', '--quiet'], { cwd: repoDir(reposRoot, 'bigone'), input: stream });
        tip = (await execa('git', ['rev-parse', 'master'], { cwd: repoDir(reposRoot, 'bigone') })).stdout.trim();
      });
      after(() => rm(repoDir(reposRoot, 'bigone'), { recursive: true, force: true }));
      /** POST a v2 request by hand; the socket and what came back once `until` holds. */
      const rawFetch = (body: string, until: (got: string) => boolean) =>
        new Promise<{ sock: net.Socket; got: string }>((resolve, reject) => {
          let got = '';
          const sock = net.connect(port, '127.0.0.1', () => {
            sock.write(`POST /bigone.git/git-upload-pack HTTP/1.1\r\nHost: x\r\nContent-Type: ${FETCH_HEADERS['content-type']}\r\n` +
              `Git-Protocol: version=2\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
          });
          sock.on('data', (c: Buffer) => {
            got += c.toString('latin1');
            if (until(got)) {
              sock.removeAllListeners('data');
              sock.pause();
              resolve({ sock, got });
            }
          });
          sock.on('error', reject);
        });

      it("answers 200 with git's content type and Connection: close; the body ends with the connection", async () => {
        const r = await request(port, 'POST', '/bigone.git/git-upload-pack', FETCH_HEADERS, Buffer.from(`${pkt('command=ls-refs\n')}0000`));
        expect(r.status).to.equal(200);
        expect(r.headers['content-type']).to.equal('application/x-git-upload-pack-result');
        expect(r.headers.connection).to.equal('close');
        expect(r.headers['content-length']).to.equal(undefined);
        expect(r.headers['transfer-encoding']).to.equal(undefined);
        expect(r.body).to.equal(`${pkt(`${tip} HEAD\n`)}${pkt(`${tip} refs/heads/master\n`)}0000`);
        expect(r.body.endsWith('0000')).to.equal(true);
        expect(await waitNoBackends()).to.deep.equal([]);
      });

      it('serves clones (shallow or not) and a fetch with negotiation, over protocol v0 and v2', async () => {
        const bare = repoDir(reposRoot, 'bigone');
        const clones = ['0', '2'].map((v) => path.join(tmp, `proto-v${v}.git`));
        try {
          for (const [i, v] of ['0', '2'].entries()) {
            const r = await git(['-c', `protocol.version=${v}`, 'clone', '-q', '--bare', url(undefined, undefined, 'bigone'), clones[i]], tmp);
            expect(r.exitCode, r.all).to.equal(0);
            const shallow = await git(['-c', `protocol.version=${v}`, 'clone', '-q', '--depth', '1', url(undefined, undefined, 'bigone'), `${clones[i]}-shallow`], tmp);
            expect(shallow.exitCode, shallow.all).to.equal(0);
          }
          // a new commit on the server: each clone fetches it, telling the server what it has
          await execa('git', ['fast-import', '--quiet'], {
            cwd: bare,
            input: `commit refs/heads/next\ncommitter T <t@example.org> 1 +0000\ndata 4\nnext\nfrom ${tip}\nM 100644 inline small\ndata 6\nsmall\n\n`,
          });
          const next = (await execa('git', ['rev-parse', 'next'], { cwd: bare })).stdout.trim();
          for (const [i, v] of ['0', '2'].entries()) {
            const r = await git(['-c', `protocol.version=${v}`, 'fetch', '-q', url(undefined, undefined, 'bigone'), 'next:next'], clones[i]);
            expect(r.exitCode, r.all).to.equal(0);
            expect((await gitOk(['rev-parse', 'next'], clones[i])).trim()).to.equal(next);
            expect((await gitOk(['rev-parse', 'master'], `${clones[i]}-shallow`)).trim()).to.equal(tip);
          }
          expect(await waitNoBackends()).to.deep.equal([]);
        } finally {
          for (const c of clones) await Promise.all([rm(c, { recursive: true, force: true }), rm(`${c}-shallow`, { recursive: true, force: true })]);
        }
      });

      it('refuses another content type with 415, running no git', async () => {
        const r = await request(port, 'POST', '/hello.git/git-upload-pack', { ...FETCH_HEADERS, 'content-type': 'text/plain' }, Buffer.from('0000'));
        expect(r.status).to.equal(415);
        expect(r.body).to.match(/Expected POST with Content-Type 'application\/x-git-upload-pack-request', but received 'text\/plain'/);
        expect(await backends()).to.deep.equal([]);
      });

      it("refuses a body over git's 10 MiB request buffer with 413, declared or not, running no git", async () => {
        const declared = await request(port, 'POST', '/hello.git/git-upload-pack', { ...FETCH_HEADERS, 'content-length': String(11 << 20) }, Buffer.alloc(11 << 20, '0'));
        expect(declared.status).to.equal(413);
        const chunked = await new Promise<number>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/hello.git/git-upload-pack', headers: FETCH_HEADERS, agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          for (let i = 0; i < 11; i++) req.write(Buffer.alloc(1 << 20, '0'));
          req.end();
        });
        expect(chunked).to.equal(413);
        expect(await backends()).to.deep.equal([]);
      });

      it('runs no git while a body drips in', async () => {
        const sock = net.connect(port, '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        sock.write(`POST /hello.git/git-upload-pack HTTP/1.1\r\nHost: x\r\nContent-Type: ${FETCH_HEADERS['content-type']}\r\nContent-Length: 1000\r\n\r\n0014command=ls-refs\n`);
        await new Promise((r) => setTimeout(r, 300));
        const during = await backends();
        sock.destroy();
        expect(during).to.deep.equal([]);
      });

      it('stops git when the client leaves mid-pack', async () => {
        const { sock, got } = await rawFetch(`${pkt('command=fetch\n')}0001${pkt(`want ${tip}\n`)}${pkt('done\n')}0000`, (g) => g.length > 100_000);
        expect(got).to.match(/^HTTP\/1\.1 200 OK\r\nConnection: close\r\n/);
        expect(got).to.include('Content-Type: application/x-git-upload-pack-result');
        const midway = await backends();
        sock.destroy();
        expect(midway.join('\n')).to.match(/git-http-backen/);
        expect(await waitNoBackends()).to.deep.equal([]);
        const clone = await git(['clone', '-q', '--bare', url(undefined, undefined, 'bigone'), path.join(tmp, 'bigone-clone.git')], tmp);
        expect(clone.exitCode, clone.all).to.equal(0);
        await rm(path.join(tmp, 'bigone-clone.git'), { recursive: true, force: true });
      });
    });

    describe('the protocol v2 capability advertisement, kept', () => {
      // git-http-backend behind a script that counts its runs
      let s6: http.Server;
      let p6: number;
      let runs: string;
      before(async () => {
        runs = path.join(tmp, 'backend-runs');
        const real = path.join((await execa('git', ['--exec-path'])).stdout.trim(), 'git-http-backend');
        const wrapper = path.join(tmp, 'counting-backend');
        await writeFile(wrapper, `#!/bin/sh\necho run >> '${runs}'\nexec '${real}'\n`, { mode: 0o755 });
        const h = createGitHttpHandler({ ...options, backendPath: wrapper });
        s6 = http.createServer((req, res) => h.handle(req, res));
        p6 = await listen(s6);
      });
      after(() => s6.close());
      const count = async () => (await readFile(runs, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      const infoRefs = (protocol?: string) =>
        request(p6, 'GET', '/hello.git/info/refs?service=git-upload-pack', protocol ? { 'git-protocol': protocol } : {});

      it("replays git's answer for the repo's config without running git again; v0 runs git each time", async () => {
        const before = await count();
        const first = await infoRefs('version=2');
        const second = await infoRefs('version=2');
        expect(first.status).to.equal(200);
        expect(first.body).to.match(/^000eversion 2\n/);
        expect(await count()).to.equal(before + 1);
        expect(second.status).to.equal(200);
        expect(second.body).to.equal(first.body);
        expect(second.headers['content-type']).to.equal(first.headers['content-type']);
        expect(second.headers['cache-control']).to.equal(first.headers['cache-control']);
        const v0 = await infoRefs();
        expect(v0.body).to.match(/^001e# service=git-upload-pack\n0000/); // then the refs, in v0
        await infoRefs();
        expect(await count()).to.equal(before + 3);
        const r = await git(['ls-remote', `http://127.0.0.1:${p6}/hello.git`], tmp);
        expect(r.exitCode, r.all).to.equal(0);
      });

      it('asks git again when the repo config changes, and says what the new config allows', async () => {
        const dir = repoDir(reposRoot, 'hello');
        const config = await readFile(path.join(dir, 'config'));
        await infoRefs('version=2');
        const before = await count();
        await execa('git', ['config', 'uploadpack.allowFilter', 'true'], { cwd: dir });
        try {
          const changed = await infoRefs('version=2');
          expect(changed.body).to.match(/fetch=[^\n]*filter/);
          expect(await count()).to.equal(before + 1);
        } finally {
          await writeFile(path.join(dir, 'config'), config);
        }
        const back = await infoRefs('version=2');
        expect(back.body).to.not.match(/filter/);
        expect(await count()).to.equal(before + 1); // the old config's answer, still kept
      });
    });

    const malformed: { title: string; headers: Record<string, string>; body: Buffer }[] = [
      { title: 'a garbage body', headers: {}, body: Buffer.from('this is not a pkt-line') },
      { title: 'a bad gzip body', headers: { 'content-encoding': 'gzip' }, body: randomBytes(100) },
      { title: 'an empty body', headers: {}, body: Buffer.alloc(0) },
    ];
    for (const m of malformed) {
      for (const svc of ['git-upload-pack', 'git-receive-pack']) {
        it(`answers ${svc} with ${m.title} without falling over`, async () => {
          const before = await remoteRefs();
          const r = await request(port, 'POST', `/hello.git/${svc}`, {
            'content-type': `application/x-${svc}-request`,
            authorization: basic('alice', 'alice-token'),
            ...m.headers,
          }, m.body);
          expect(r.status).to.be.within(200, 599);
          expect(await remoteRefs()).to.deep.equal(before);
        });
      }
    }

    it('refuses a body over maxBodyBytes with 413 and stops git', async () => {
      const small = createGitHttpHandler({ ...options, maxBodyBytes: 20_000 });
      const s2 = http.createServer((req, res) => small.handle(req, res));
      const p2 = await listen(s2);
      try {
        const before = await remoteRefs();
        const declared = await request(p2, 'POST', '/hello.git/git-receive-pack', { authorization: basic('alice', 'alice-token'), 'content-length': '50000' }, randomBytes(50_000));
        expect(declared.status).to.equal(413);
        await gitOk(['checkout', '-q', '--detach', c1]);
        await commitFiles('big', { big: randomBytes(200_000).toString('base64') });
        const r = await git(['push', url('alice', 'alice-token', 'hello', p2), 'HEAD:refs/heads/master']);
        expect(r.exitCode).to.not.equal(0);
        expect(r.all).to.match(/413/);
        expect(await remoteRefs()).to.deep.equal(before);
        expect(await waitNoBackends()).to.deep.equal([]);
      } finally {
        s2.close();
      }
    });

    const hookTroubles: { title: string; hookEnv: Record<string, string> }[] = [
      { title: 'the hook server cannot be reached', hookEnv: { MORPHUX_HOOK_URL: 'http://127.0.0.1:1' } },
      { title: 'the hook token is wrong', hookEnv: { MORPHUX_HOOK_TOKEN: 'not-the-hook-token' } },
      { title: 'git runs without the hook settings', hookEnv: { MORPHUX_HOOK_SCRIPT: '' } },
    ];
    for (const t of hookTroubles) {
      it(`refuses a push when ${t.title}, saying so`, async () => {
        const h = createGitHttpHandler({ ...options, hookEnv: { ...options.hookEnv, ...t.hookEnv } });
        const s3 = http.createServer((req, res) => h.handle(req, res));
        const p3 = await listen(s3);
        try {
          const before = await remoteRefs();
          await gitOk(['checkout', '-q', '--detach', c1]);
          await commitFiles(t.title, { extra: t.title });
          const r = await git(['push', url('alice', 'alice-token', 'hello', p3), 'HEAD:refs/heads/trouble']);
          expect(r.exitCode).to.not.equal(0);
          expect(r.all, r.all).to.match(/^remote: Morphux: /m);
          expect(await remoteRefs()).to.deep.equal(before);
        } finally {
          s3.close();
        }
      });
    }

    describe('a limit on git processes at once', () => {
      // the test holds the one slot itself, so what the handler does while it is taken is certain
      let limiter: BackendLimiter;
      let s4: http.Server;
      let p4: number;
      beforeEach(async () => {
        limiter = new BackendLimiter(1, 1);
        const h = createGitHttpHandler({ ...options, limiter });
        s4 = http.createServer((req, res) => h.handle(req, res));
        p4 = await listen(s4);
      });
      afterEach(() => s4.close());
      const infoRefs = () => request(p4, 'GET', '/hello.git/info/refs?service=git-upload-pack');
      const until = async (ok: () => boolean) => {
        for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 20));
        expect(ok()).to.equal(true);
      };

      it('queues a request until a slot is free, then serves it', async () => {
        const held = await limiter.acquire();
        if (typeof held !== 'function') throw new Error('no slot');
        let done = false;
        const waiting = infoRefs().finally(() => { done = true; });
        await until(() => limiter.queued === 1);
        await new Promise((r) => setTimeout(r, 200));
        expect(done).to.equal(false);
        held();
        const r = await waiting;
        expect(r.status).to.equal(200);
        expect(r.body).to.include('refs/heads/');
        await until(() => limiter.active === 0);
        expect(await waitNoBackends()).to.deep.equal([]);
      });

      it('answers 503 with a JSON error and Retry-After past the queue; git says so', async () => {
        const held = await limiter.acquire();
        if (typeof held !== 'function') throw new Error('no slot');
        try {
          const queued = infoRefs();
          await until(() => limiter.queued === 1);
          const r = await infoRefs();
          expect(r.status).to.equal(503);
          expect(r.headers['content-type']).to.equal('application/json');
          expect(Number(r.headers['retry-after'])).to.be.above(0);
          expect(JSON.parse(r.body).error.code).to.equal('unavailable');
          const ls = await git(['ls-remote', `http://127.0.0.1:${p4}/hello.git`]);
          expect(ls.exitCode).to.not.equal(0);
          expect(ls.all).to.match(/503/);
          held();
          expect((await queued).status).to.equal(200);
        } finally {
          held();
        }
      });

      it('forgets a queued request whose client leaves, and runs no git for it', async () => {
        const held = await limiter.acquire();
        if (typeof held !== 'function') throw new Error('no slot');
        const req = http.request({ host: '127.0.0.1', port: p4, path: '/hello.git/info/refs?service=git-upload-pack', agent: false });
        req.on('error', () => {});
        req.end();
        await until(() => limiter.queued === 1);
        req.destroy();
        await until(() => limiter.queued === 0);
        held();
        expect(limiter.active).to.equal(0);
        expect(await waitNoBackends()).to.deep.equal([]);
      });

      it('clones through a limit of one, many at once', async () => {
        const big = new BackendLimiter(1, 64);
        const h = createGitHttpHandler({ ...options, limiter: big });
        const s5 = http.createServer((req, res) => h.handle(req, res));
        const p5 = await listen(s5);
        try {
          const rs = await Promise.all([0, 1, 2, 3, 4].map((i) => git(['clone', '-q', '--bare', `http://127.0.0.1:${p5}/hello.git`, path.join(tmp, `limited-${i}.git`)], tmp)));
          for (const r of rs) expect(r.exitCode, r.all).to.equal(0);
          expect(big.active).to.equal(0);
        } finally {
          s5.close();
          for (let i = 0; i < 5; i++) await rm(path.join(tmp, `limited-${i}.git`), { recursive: true, force: true });
        }
      });
    });

    it('still serves requests after all that', async () => {
      const r = await git(['ls-remote', url()]);
      expect(r.exitCode, r.all).to.equal(0);
    });
  });

  describe('paths', () => {
    const cases: { path: string; method?: string; auth?: boolean; status: number }[] = [
      { path: '/%2e%2e.git/info/refs?service=git-upload-pack', status: 404 },
      { path: '/..%2fhello.git/info/refs?service=git-upload-pack', status: 404 },
      { path: '/%2e%2e%2f%2e%2e%2fevil.git/git-receive-pack', method: 'POST', auth: true, status: 404 },
      { path: '/nope.git/info/refs?service=git-upload-pack', status: 404 },
      { path: '/nope.git/info/refs?service=git-receive-pack', auth: true, status: 404 },
      { path: '/nope.git/git-receive-pack', method: 'POST', auth: true, status: 404 },
      { path: '/Hello.git/info/refs?service=git-upload-pack', status: 404 },
      { path: '/hello.git.git/info/refs?service=git-upload-pack', status: 404 },
      { path: '/hello.git/config', status: 404 },
      { path: '/hello.git/hooks/pre-receive', status: 404 },
      { path: '/hello.git/objects/info/packs', status: 404 },
      { path: '/hello.git/info/refs/../../config', status: 404 },
      { path: '/hello.git/info/refs', status: 403 },
      { path: '/hello.git/git-upload-pack', method: 'GET', status: 405 },
      { path: '/hello.git/HEAD', status: 200 },
    ];
    for (const c of cases) {
      it(`${c.method ?? 'GET'} ${c.path} → ${c.status}, nothing created`, async () => {
        const rootBefore = await readdir(reposRoot);
        const tmpBefore = await readdir(tmp);
        const r = await request(port, c.method ?? 'GET', c.path, c.auth ? { authorization: basic('alice', 'alice-token') } : {}, c.method === 'POST' ? Buffer.from('0000') : undefined);
        expect(r.status).to.equal(c.status);
        expect(await readdir(reposRoot)).to.deep.equal(rootBefore);
        expect(await readdir(tmp)).to.deep.equal(tmpBefore);
      });
    }

    it('a clone or ls-remote of an unknown repo fails and creates nothing', async () => {
      const r = await git(['ls-remote', url(undefined, undefined, 'unknown')]);
      expect(r.exitCode).to.not.equal(0);
      expect(await listRepos(reposRoot)).to.deep.equal(['hello']);
      expect(await readdir(reposRoot)).to.deep.equal(['hello.git']);
    });
  });
});
