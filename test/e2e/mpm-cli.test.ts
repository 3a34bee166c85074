// The mpm client and the operator's account commands as users run them (real processes against
// a real server, no VM): --help everywhere, submit, query, info, get (follows the 301, records the
// final pkgurl, checks sha256, writes or extracts), the meta actions, one-line errors.
import { expect } from 'chai';
import { bundleClis, cliErrorCode, expectOneLine, runCli } from '../support/cli-bin.js';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES } from '../support/git-client.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { markBuilt } from '../support/portpkgs.js';
import { api, newUser, startTestServer, type TestServer } from '../support/test-server.js';


describe('mpm and morphux account commands', function () {
  this.timeout(180_000);
  let s: TestServer;
  let alice: string;
  let tmp: string;
  const record = () => path.join(tmp, 'record', 'fetched.json');
  const run = (cli: 'mpm' | 'morphux', args: string[], token?: string) =>
    runCli(cli, args, { cwd: tmp, env: { MPM_SERVER: s.url, MPM_TOKEN: token ?? '', MPM_RECORD: record(), MORPHUX_DATA: s.data } });
  const mpm = (args: string[], token: string | null = alice) => run('mpm', args, token ?? undefined);

  before(async () => {
    s = await startTestServer({ worker: false });
    alice = await newUser(s, 'alice');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'mpm-'));
    await bundleClis();
  });
  after(async () => s && (await s.close()));

  const commands = ['query', 'info', 'get', 'submit', 'flag-stable', 'submit-report', 'show-reports', 'comment', 'tag', 'vote'];
  it('answers --help for mpm and every subcommand', async () => {
    const all = await Promise.all([[], ...commands.map((c) => [c])].map((c) => mpm([...c, '--help'])));
    for (const [i, r] of all.entries()) {
      expect(r.code, String(i)).to.equal(0);
      expect(r.out).to.match(/^Usage: mpm/);
    }
    for (const c of commands) expect(all[0].out).to.include(c);
  });

  let pkgid = 0;
  it('submit DIR packs the directory and prints the pkgid and pkgurl', async () => {
    const dir = path.join(tmp, 'hello');
    await cp(path.join(FIXTURES, 'hello'), dir, { recursive: true });
    const r = await mpm(['submit', dir]);
    expect(r.code, r.err).to.equal(0);
    const m = /^pkgid (\d+)\npkgurl (\S+)$/.exec(r.out.trim());
    expect(m, r.out).to.not.equal(null);
    pkgid = Number(m![1]);
    expect(m![2]).to.equal(`${s.url}/pkg/${pkgid}`);
    const info = (await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).json.submission;
    expect(info.source).to.deep.equal({ type: 'upload', filename: 'hello-1.0.tgz' });
    await markBuilt(s, pkgid, 'good');
  });

  it('query, info and show-reports, as text and --json', async () => {
    const q = await mpm(['query', 'hell']);
    expect(q.out).to.match(/^hello 1\.0/);
    const qj = JSON.parse((await mpm(['--json', 'query', '--sort', 'votes'])).out);
    expect(qj.items.map((i: any) => i.name)).to.deep.equal(['hello']);
    const ij = JSON.parse((await mpm(['--json', 'info', String(pkgid)])).out);
    expect(ij.submission.pkgid).to.equal(pkgid);
    expect(JSON.parse((await mpm(['--json', 'info', 'hello'])).out).maintainers).to.deep.equal(['alice']);
    expect(JSON.parse((await mpm(['--json', 'show-reports', String(pkgid)])).out).items).to.deep.equal([]);
  });

  it('get NAME follows the 301, checks sha256, writes the .tgz and records the final pkgurl', async () => {
    const r = await mpm(['--json', 'get', 'hello']);
    expect(r.code, r.err).to.equal(0);
    const got = JSON.parse(r.out);
    expect(got).to.include({ pkgid, pkgurl: `${s.url}/pkg/${pkgid}`, query_url: `${s.url}/port/hello` });
    expect((await readFile(got.file)).length).to.equal(got.size);
    const rec = JSON.parse(await readFile(record(), 'utf8'));
    expect(rec.at(-1)).to.include({ pkgurl: `${s.url}/pkg/${pkgid}`, sha256: got.sha256, name: 'hello' });
  });

  it('get NAME@VERSION --extract DIR unpacks; get PKGURL and get NAME@stable work too', async () => {
    const dest = path.join(tmp, 'x');
    const r = await mpm(['get', 'hello@1.0', '--extract', dest]);
    expect(r.code, r.err).to.equal(0);
    expect(JSON.parse(await readFile(path.join(dest, 'package.json'), 'utf8')).name).to.equal('hello');
    expect((await mpm(['get', `${s.url}/pkg/${pkgid}`, '-o', path.join(tmp, 'h.tgz')])).code).to.equal(0);
    const none = await mpm(['get', 'hello@stable']);
    expect(none.code).to.not.equal(0);
    expectOneLine(none.err);
    expect((await mpm(['flag-stable', String(pkgid)])).out).to.match(/flagged stable/);
    expect((await mpm(['get', 'hello@stable', '-o', path.join(tmp, 's.tgz')])).code).to.equal(0);
    expect(JSON.parse(await readFile(record(), 'utf8'))).to.have.length(4);
  });

  it('get refuses bytes whose sha256 is not the submission\'s, writing nothing and recording nothing', async () => {
    // the portpkg on the server's disk changed behind the store's back (corruption, tampering)
    const tgz = path.join(s.data, 'store', storePaths.portpkgTgz(pkgid));
    const original = await readFile(tgz);
    const before = await readFile(record(), 'utf8');
    await chmod(tgz, 0o644);
    await writeFile(tgz, Buffer.concat([original, Buffer.from('tampered')]));
    await new Promise((r) => setTimeout(r, 1100)); // the server's file cache looks at the disk again after 1 s
    try {
      const out = path.join(tmp, 'tampered.tgz');
      const r = await mpm(['get', `${s.url}/pkg/${pkgid}`, '-o', out]);
      expect(r.code).to.not.equal(0);
      expectOneLine(r.err);
      expect(cliErrorCode(r), r.err).to.equal('unsafe_archive');
      expect(existsSync(out)).to.equal(false);
      expect(existsSync(`${out}.part`)).to.equal(false);
      expect(await readFile(record(), 'utf8')).to.equal(before);
    } finally {
      await writeFile(tgz, original);
    }
  });

  it('submit-report, comment, tag and vote change the submission', async () => {
    const log = path.join(tmp, 'build.log');
    await writeFile(log, 'all good\n');
    const steps = [
      ['submit-report', String(pkgid), '--status', 'failed', '--log', log, '--message', 'segfault'],
      ['comment', String(pkgid), 'nice one'],
      ['tag', String(pkgid), 'cli'],
      ['tag', String(pkgid), 'old'],
      ['tag', String(pkgid), 'old', '--remove'],
      ['vote', String(pkgid)],
    ];
    for (const a of steps) {
      const r = await mpm(a);
      expect(r.code, `${a.join(' ')}: ${r.err}`).to.equal(0);
    }
    const v = (await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).json;
    expect(v).to.include({ votes: 1, comments: 1, reports: 1 });
    expect(v.tags).to.deep.equal(['cli']);
    expect((await mpm(['comment', String(pkgid)])).out).to.match(/alice: nice one/);
    expect((await mpm(['show-reports', String(pkgid)])).out).to.match(/alice x86_64 failed/);
    expect((await mpm(['vote', String(pkgid), '--remove'])).out).to.match(/0 votes/);
  });

  const failures: Array<[string, string[], string | null]> = [
    ['an unknown pkgid', ['info', '999'], 'x'],
    ['no token for a write', ['vote', '1'], null],
    ['a forged token', ['vote', '1'], 'mpx_forgedforgedforged'],
    ['an unknown option', ['query', '--nope'], 'x'],
    ['a missing argument', ['tag', '1'], 'x'],
    ['a bad report status', ['submit-report', '1', '--status', 'meh'], 'x'],
    ['a directory without package.json', ['submit', '/nonexistent-dir'], 'x'],
    ['a server that is not there', ['--server', 'http://127.0.0.1:1', 'query'], 'x'],
  ];
  for (const [what, args, token] of failures) {
    it(`fails with one line on stderr and a non-zero exit: ${what}`, async () => {
      const r = await mpm(args, token);
      expect(r.code).to.not.equal(0);
      expectOneLine(r.err);
    });
  }

  it('morphux user token add|list|revoke: the running server sees each at once', async () => {
    const add = await run('morphux', ['user', 'token', 'add', 'alice', '--name', 'laptop']);
    expect(add.code, add.err).to.equal(0);
    const t = add.out.trim();
    expect(t).to.match(/^mpx_\S+$/);
    expect((await api(s.url, 'GET', '/api/v1/me', undefined, t)).json.name).to.equal('alice');
    const list = JSON.parse((await run('morphux', ['user', 'token', 'list', 'alice', '--json'])).out);
    expect(list.map((x: any) => x.name)).to.deep.equal(['default', 'laptop']);
    expect((await run('morphux', ['user', 'token', 'revoke', 'alice', 'laptop'])).code).to.equal(0);
    expect((await api(s.url, 'GET', '/api/v1/me', undefined, t)).status).to.equal(401);
    expect((await api(s.url, 'GET', '/api/v1/me', undefined, alice)).status).to.equal(200);
    const again = await run('morphux', ['user', 'token', 'revoke', 'alice', 'laptop']);
    expect(again.code).to.not.equal(0);
    expect((await run('morphux', ['repo', 'maintainer', 'add', 'hello', 'nobody'])).code).to.not.equal(0);
  });
});
