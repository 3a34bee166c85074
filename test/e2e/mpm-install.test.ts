// mpm install, remove, upgrade, list, files, owner, verify as users run them (the bundled CLI, real
// processes) on a scratch root against a stand-in plan server (test/support/install-plan-server.ts,
// the format of docs/install-plan.md) serving real tar.gz archives: a library and a program that
// needs it; upgrades keep changed config files; every refusal leaves the root untouched.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildPackage, listing, startPlanServer, type PlanServer } from '../support/install-plan-server.js';
import { bundleClis, cliErrorCode, expectOneLine as oneLine, runCli } from '../support/cli-bin.js';
import { baseRoot, CONF_11, greet, IGNORED, LIB_SO, libgreet } from '../support/mpm-install-fixtures.js';

describe('mpm install, remove, upgrade, list, files, owner, verify', function () {
  this.timeout(180_000);
  let srv: PlanServer;
  let tmp: string;
  let R: string;
  let pristine: Record<string, string>;

  const mpm = (args: string[], env: Record<string, string> = {}) => runCli('mpm', args, { cwd: tmp, env: { MPM_SERVER: srv.url, MPM_TOKEN: '', ...env } });
  const db = async (root: string, name: string) => JSON.parse(await readFile(path.join(root, 'var/lib/mpm/installed', `${name}.json`), 'utf8'));
  const mode = async (p: string) => (await stat(p)).mode & 0o7777;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'mpm-install-'));
    srv = await startPlanServer();
    srv.add(await libgreet(1));
    srv.add(await greet(2, '1.0'));
    srv.add(await greet(3, '1.1'), false);
    R = await baseRoot(tmp, 'root');
    pristine = await listing(R);
    await bundleClis();
  });
  after(async () => {
    await srv?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('answers --help for every installer command', async () => {
    for (const c of ['install', 'remove', 'upgrade', 'list', 'files', 'owner', 'verify']) {
      const r = await mpm([c, '--help']);
      expect(r.code, c).to.equal(0);
      expect(r.out).to.match(new RegExp(`^Usage: mpm ${c}`));
      expect(r.out).to.include('--root').and.include('--json');
    }
  });

  it('install greet --yes: the plan with its dependency, files with their modes, the database', async () => {
    const r = await mpm(['install', 'greet', '--root', R, '--yes']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/libgreet\s+1\.0\s+new \(dependency\)/).and.match(/greet\s+1\.0\s+new/);
    expect(r.out).to.match(/Download size: .*Installed size:/);
    expect(r.out).to.include('installed libgreet 1.0 (pkgid 1) as a dependency').and.include('installed greet 1.0 (pkgid 2)');
    expect(r.out).to.match(/ldconfig: (ran|.*skipped|.*failed)/);
    expect(await readFile(path.join(R, 'usr/bin/greet'), 'utf8')).to.include('greet 1.0');
    expect(await mode(path.join(R, 'usr/bin/greet'))).to.equal(0o755);
    expect((await stat(path.join(R, 'usr/bin/hello'))).ino).to.equal((await stat(path.join(R, 'usr/bin/greet'))).ino); // a hard link
    expect(await mode(path.join(R, 'usr/include/greet.h'))).to.equal(0o644);
    expect(await mode(path.join(R, 'usr/lib/libgreet.so.1'))).to.equal(0o755);
    expect(await readFile(path.join(R, 'usr/lib/libgreet.so'), 'utf8')).to.equal(LIB_SO); // through the symlink
    const lib = await db(R, 'libgreet');
    expect(lib).to.include({ name: 'libgreet', version: '1.0', pkgid: 1, pkgurl: `${srv.url}/pkg/1`, explicit: false });
    expect(lib.files.find((f: any) => f.path === '/usr/lib/libgreet.so')).to.include({ type: 'symlink', target: 'libgreet.so.1' });
    const g = await db(R, 'greet');
    expect(g).to.include({ version: '1.0', pkgid: 2, explicit: true, spec: 'greet' });
    expect(g.dependencies).to.deep.equal({ libgreet: '>=1.0 <2' });
    expect(g.files.find((f: any) => f.path === '/usr/bin/greet')).to.include({ type: 'file', mode: 0o755 });
    expect(existsSync(path.join(R, 'var/lib/mpm/journal.json'))).to.equal(false);
    expect(existsSync(path.join(R, 'var/lib/mpm/staging'))).to.equal(false);
    // the plan was asked with what was installed (nothing yet) and the machine's arch
    expect(srv.queries.at(-1)!.getAll('pkg')).to.deep.equal(['greet']);
  });

  it('install again is nothing to do; the second plan names what is installed', async () => {
    const r = await mpm(['install', 'greet', '--root', R]);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/nothing to do/);
    expect(srv.queries.at(-1)!.get('installed')).to.equal('greet@2,libgreet@1');
  });

  it('list, files, owner, verify (text and --json)', async () => {
    const l = await mpm(['list', '--root', R]);
    expect(l.code).to.equal(0);
    expect(l.out).to.match(/^greet\s+1\.0\s+pkgid 2\s+explicit$/m).and.match(/^libgreet\s+1\.0\s+pkgid 1\s+dependency$/m);
    const lj = JSON.parse((await mpm(['list', '--root', R, '--json'])).out);
    expect(lj.items.map((i: any) => [i.name, i.explicit])).to.deep.equal([['greet', true], ['libgreet', false]]);
    const f = await mpm(['files', 'libgreet', '--root', R]);
    expect(f.out.split('\n')).to.include.members(['/usr/lib/libgreet.so.1', '/usr/lib/libgreet.so -> libgreet.so.1', '/usr/include/greet.h']);
    const o = await mpm(['owner', '/usr/bin/greet', '--root', R]);
    expect(o.code).to.equal(0);
    expect(o.out.trim()).to.equal('/usr/bin/greet is owned by greet 1.0');
    expect(JSON.parse((await mpm(['--json', 'owner', '/usr/lib', '--root', R])).out).owners.map((x: any) => x.name)).to.deep.equal(['libgreet']);
    const none = await mpm(['owner', '/etc/hostname', '--root', R]);
    expect(none.code).to.not.equal(0);
    oneLine(none.err);
    expect(cliErrorCode(none), none.err).to.equal('not_found');
    expect(none.err).to.include('/etc/hostname');
    const v = await mpm(['verify', '--root', R]);
    expect(v.code, v.out + v.err).to.equal(0);
    expect(v.out).to.match(/2 packages, \d+ files checked: no problems/);
  });

  it('verify names a changed file, a file of another mode and a missing one, and exits 1', async () => {
    const h = path.join(R, 'usr/include/greet.h');
    const original = await readFile(h);
    await writeFile(h, 'int greet(void);\n');
    await chmod(path.join(R, 'usr/lib/libgreet.so.1'), 0o700);
    await rename(path.join(R, 'usr/share/doc/greet/README'), path.join(tmp, 'README'));
    const v = await mpm(['verify', '--root', R]);
    expect(v.code).to.equal(1);
    expect(v.out).to.include('libgreet: changed /usr/include/greet.h').and.include('libgreet: mode-changed /usr/lib/libgreet.so.1').and.include('greet: missing /usr/share/doc/greet/README');
    const vj = JSON.parse((await mpm(['verify', 'greet', '--root', R, '--json'])).out);
    expect(vj.problems).to.deep.equal([{ name: 'greet', path: '/usr/share/doc/greet/README', problem: 'missing', detail: 'missing' }]);
    await writeFile(h, original);
    await chmod(path.join(R, 'usr/lib/libgreet.so.1'), 0o755);
    await rename(path.join(tmp, 'README'), path.join(R, 'usr/share/doc/greet/README'));
    expect((await mpm(['verify', '--root', R])).code).to.equal(0);
  });

  it('remove libgreet is refused while greet depends on it, naming greet; nothing changes', async () => {
    const was = await listing(R);
    const r = await mpm(['remove', 'libgreet', '--root', R, '--yes']);
    expect(r.code).to.not.equal(0);
    oneLine(r.err);
    expect(cliErrorCode(r), r.err).to.equal('dependency');
    expect(r.err).to.include('greet depends on it');
    expect(await listing(R)).to.deep.equal(was);
    const n = await mpm(['remove', 'nosuch', '--root', R, '--yes']);
    expect(n.code).to.not.equal(0);
    expect(cliErrorCode(n), n.err).to.equal('not_found');
    expect(n.err).to.include('nosuch');
  });

  it('upgrade: greet 1.1 as one transaction; the changed /etc/greet.conf stays, the new one is greet.conf.mpmnew', async () => {
    await writeFile(path.join(R, 'etc/greet.conf'), 'greeting=bonjour\n');
    srv.current.set('greet', 3);
    const r = await mpm(['upgrade', '--root', R, '--yes']);
    expect(r.code, r.err).to.equal(0);
    expect(srv.queries.at(-1)!.getAll('pkg')).to.deep.equal(['greet']);
    expect(srv.queries.at(-1)!.get('installed')).to.equal('greet@2,libgreet@1');
    expect(r.out).to.match(/greet\s+1\.0 -> 1\.1\s+upgrade/);
    expect(r.out).to.include('upgraded greet 1.0 -> 1.1 (pkgid 2 -> 3)');
    expect(r.out).to.include('kept /etc/greet.conf (you changed it); the new version is /etc/greet.conf.mpmnew');
    expect(r.out).to.not.include('libgreet 1.0 ->'); // unchanged: not touched
    expect(await readFile(path.join(R, 'etc/greet.conf'), 'utf8')).to.equal('greeting=bonjour\n');
    expect(await readFile(path.join(R, 'etc/greet.conf.mpmnew'), 'utf8')).to.equal(CONF_11);
    expect(await readFile(path.join(R, 'usr/bin/greet'), 'utf8')).to.include('greet 1.1');
    expect(await db(R, 'greet')).to.include({ version: '1.1', pkgid: 3, pkgurl: `${srv.url}/pkg/3`, explicit: true });
    expect(await db(R, 'libgreet')).to.include({ pkgid: 1, explicit: false });
    const v = await mpm(['verify', '--root', R]);
    expect(v.code, v.out).to.equal(0); // a config file the user changed is theirs: reported, no fault
    expect(v.out).to.include('greet: config-changed /etc/greet.conf');
    expect((await mpm(['upgrade', '--root', R, '--yes'])).out).to.match(/nothing to do/);
  });

  it('remove greet --orphans (after the user took the new config) leaves the root as it was before the install', async () => {
    await rename(path.join(R, 'etc/greet.conf.mpmnew'), path.join(R, 'etc/greet.conf'));
    const r = await mpm(['remove', 'greet', '--orphans', '--root', R, '--yes']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include('removed greet 1.1 (pkgid 3)').and.include('removed libgreet 1.0 (pkgid 1) (orphan)');
    const now = await listing(R, { ignore: IGNORED });
    const was = Object.fromEntries(Object.entries(pristine).filter(([p]) => !IGNORED.some((i) => p === i || p.startsWith(`${i}/`))));
    expect(now).to.deep.equal(was);
    // what is left of mpm's own: its empty database folder
    expect(await listing(path.join(R, 'var'))).to.deep.equal({ '/lib': 'dir 755', '/lib/mpm': 'dir 755', '/lib/mpm/installed': 'dir 755' });
    expect((await mpm(['list', '--root', R])).out.trim()).to.equal('no packages installed');
  });

  it('remove keeps a config file the user changed, and says so', async () => {
    const r2 = await baseRoot(tmp, 'root-keep');
    expect((await mpm(['install', 'greet', '--root', r2, '--yes'])).code).to.equal(0);
    await writeFile(path.join(r2, 'etc/greet.conf'), 'mine\n');
    const r = await mpm(['remove', 'greet', '--root', r2, '--yes', '--orphans']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.include('kept /etc/greet.conf (you changed it)');
    expect(await readFile(path.join(r2, 'etc/greet.conf'), 'utf8')).to.equal('mine\n');
    expect(existsSync(path.join(r2, 'usr/bin/greet'))).to.equal(false);
  });

  describe('refusals leave the root untouched (not even mpm\'s database folder)', () => {
    let r: string;
    let was: Record<string, string>;
    beforeEach(async () => {
      r = await baseRoot(tmp, `root-${Math.random().toString(36).slice(2)}`);
      was = await listing(r);
    });
    afterEach(() => {
      srv.tampered.clear();
      srv.override = null;
    });
    /** refused with `code`, the message naming each of `named`, and nothing changed */
    const refused = async (args: string[], code: string, ...named: string[]) => {
      const x = await mpm([...args, '--root', r, '--yes']);
      expect(x.code, x.out).to.not.equal(0);
      oneLine(x.err);
      expect(cliErrorCode(x), x.err).to.equal(code);
      for (const n of named) expect(x.err).to.include(n);
      expect(await listing(r)).to.deep.equal(was);
      expect(existsSync(path.join(r, 'var'))).to.equal(false);
      return x;
    };

    it('a tampered archive (sha256 not the plan\'s)', async () => {
      srv.tampered.add(srv.current.get('greet')!);
      await refused(['install', 'greet'], 'digest_mismatch');
    });

    it('a file in the way that belongs to no package, named; --overwrite replaces it', async () => {
      await writeFile(path.join(r, 'usr/bin/greet'), 'mine\n');
      was = await listing(r);
      await refused(['install', 'greet'], 'conflict', '/usr/bin/greet', '--overwrite');
      const x = await mpm(['install', 'greet', '--root', r, '--yes', '--overwrite']);
      expect(x.code, x.err).to.equal(0);
      expect(await readFile(path.join(r, 'usr/bin/greet'), 'utf8')).to.include('hello from greet');
      expect((await mpm(['verify', '--root', r])).code).to.equal(0);
    });

    it('a file owned by another installed package, naming both', async () => {
      const other = await buildPackage({ name: 'other', version: '1', pkgid: 50, files: [{ path: '/usr/include/greet.h', body: 'x\n' }] });
      srv.add(other);
      try {
        expect((await mpm(['install', 'greet', '--root', r, '--yes'])).code).to.equal(0);
        was = await listing(r, {});
        const x = await mpm(['install', 'other', '--root', r, '--yes']);
        expect(x.code).to.not.equal(0);
        expect(cliErrorCode(x), x.err).to.equal('conflict');
        expect(x.err).to.include('/usr/include/greet.h').and.include('other').and.include('libgreet');
        expect(await listing(r)).to.deep.equal(was);
      } finally {
        srv.pkgs.delete(50);
        srv.current.delete('other');
      }
    });

    it('a plan that is not the agreed shape, or not JSON, or points elsewhere', async () => {
      srv.override = (_req, res, url) => url.pathname === '/api/v1/install' && (res.writeHead(200, { 'content-type': 'application/json' }).end('{"arch":"x86_64","requested":["greet"],"packages":[{"name":"greet"}]}'), true);
      await refused(['install', 'greet'], 'bad_request', 'install plan is invalid');
      srv.override = (_req, res, url) => url.pathname === '/api/v1/install' && (res.writeHead(200, { 'content-type': 'application/json' }).end('<html>oops'), true);
      await refused(['install', 'greet'], 'bad_request', 'install plan is invalid');
      srv.override = (_req, res, url) => {
        if (url.pathname !== '/api/v1/install') return false;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          arch: 'x86_64', requested: ['libgreet'], packages: [{
            name: 'libgreet', version: '1.0', pkgid: 1, pkgurl: `${srv.url}/pkg/1`, arch: 'x86_64', explicit: true, installed_size: 1, dependencies: {}, resolved: {},
            binaries: { url: 'http://evil.example/x.tgz', size: 1, sha256: 'a'.repeat(64) }, manifest: { url: `${srv.url}/m`, sha256: 'a'.repeat(64) },
          }],
        }));
        return true;
      };
      await refused(['install', 'libgreet'], 'bad_request', 'evil.example'); // names the origin refused
    });

    it('an unknown package (404), an unsatisfiable range (422 dependency), a bad spec', async () => {
      await refused(['install', 'nosuch'], 'not_found', 'nosuch');
      srv.override = (_req, res, url) => url.pathname === '/api/v1/install'
        && (res.writeHead(422, { 'content-type': 'application/json' }).end('{"error":{"code":"dependency","message":"greet needs libgreet >=2: no good build satisfies it"}}'), true);
      await refused(['install', 'greet'], 'dependency', 'libgreet >=2'); // the server's message, passed on
      await refused(['install', 'Bad Name'], 'invalid_name');
      await refused(['install', 'greet@>=1'], 'invalid_version');
    });

    it('without --yes and without a terminal, asks for --yes', async () => {
      const x = await mpm(['install', 'greet', '--root', r]);
      expect(x.code).to.not.equal(0);
      expect(cliErrorCode(x), x.err).to.equal('bad_request');
      expect(x.err).to.include('--yes'); // what to do is the point
      expect(await listing(r)).to.deep.equal(was);
    });

    it('a --root that is not a directory', async () => {
      const x = await mpm(['list', '--root', path.join(r, 'nope')]);
      expect(x.code).to.not.equal(0);
      oneLine(x.err);
      expect(cliErrorCode(x), x.err).to.equal('bad_request');
    });
  });

  it('install by pkgid and by pkgurl records the name as what upgrade asks for; a dependency asked for becomes explicit', async () => {
    const r = await baseRoot(tmp, 'root-ids');
    expect((await mpm(['install', `${srv.url}/pkg/2`, '--root', r, '--yes'])).code).to.equal(0);
    expect(await db(r, 'greet')).to.include({ pkgid: 2, spec: 'greet', explicit: true });
    const x = await mpm(['install', 'libgreet', '--root', r, '--yes']);
    expect(x.code, x.err).to.equal(0);
    expect(x.out).to.include('libgreet: now installed explicitly');
    expect(await db(r, 'libgreet')).to.include({ explicit: true });
  });
});
