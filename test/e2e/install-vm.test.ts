// The install issue's proof, through the whole system: libgreet and greet (a program linking it)
// pushed with git and built good in real VMs; the real `mpm` installs greet, with libgreet as its
// dependency, into R, a fresh copy of the build VM's own base root; the installed program runs there
// (`chroot R /usr/bin/greet`, as root, as in CI); verify is clean; libgreet cannot be removed while
// greet needs it; `remove greet --orphans` leaves R as it was before the install.
//
// R: the cached base image's root.ext4 (found through ensureImage, as the runner finds it) dumped
// whole with `debugfs -R "rdump / R"` — no mount, no loop device. The whole root (≈450 MB, ≈13,000
// paths) takes about 3 s and is the real thing, so no subset is picked. rdump keeps the permission
// bits but not setuid/setgid/sticky, and makes hard links separate files: R is compared only with
// itself, before and after.
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureImage } from '../../src/builder/vm/base-image.js';
import { SYSTEM_CACHES } from '../../src/mpm/triggers.js';
import { cliErrorCode, runCli } from '../support/cli-bin.js';
import { pushFixture } from '../support/git-client.js';
import { listing } from '../support/install-plan-server.js';
import { api, newUser, startTestServer, waitState, type TestServer } from '../support/test-server.js';

// Left out of the before/after comparison — the same two things test/e2e/mpm-install.test.ts leaves
// out (its IGNORED: /var, wholly mpm's in its base root, and /etc/ld.so.cache): mpm's own folder
// (src/mpm/README.md: the database, journal and staging under ROOT/var/lib/mpm; here the root has a
// /var of its own, so only var/lib/mpm) and the system caches the ldconfig trigger rewrites
// (src/mpm/triggers.ts SYSTEM_CACHES: /etc/ld.so.cache and /var/cache/ldconfig/aux-cache).
const IGNORED = ['/var/lib/mpm', ...SYSTEM_CACHES];
/** debugfs and chroot live in /usr/sbin, which a CI job's PATH may lack */
const SBIN = { PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin` };

describe('mpm install into a copy of the build VM\'s root (libgreet → greet, built in VMs)', function () {
  this.timeout(900_000);
  let s: TestServer;
  let alice: string;
  let tmp: string;
  let R: string;
  let pristine: Record<string, string>;
  let lib = 0;
  let prog = 0;

  const mpm = (...args: string[]) => runCli('mpm', [...args, '--root', R], { env: { MPM_SERVER: s.url } });
  const secs = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'install-vm-'));
    s = await startTestServer({ worker: true });
    alice = await newUser(s, 'alice');
    for (const name of ['libgreet', 'greet']) expect((await api(s.url, 'POST', '/api/v1/repos', { name }, alice)).status).to.equal(201);
  });
  after(async () => {
    await s?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('builds libgreet 1.0, then greet 1.0 against it, both good', async () => {
    for (const fixture of ['libgreet', 'greet']) {
      const t0 = Date.now();
      const pkgid = await pushFixture(s.url, fixture, '1.0', 'alice', alice);
      const view = await waitState(s.url, pkgid, 540_000);
      console.log(`      ${fixture}: pkgid ${pkgid} ${view.status.state} in ${secs(t0)} (push to good)`);
      expect(view.status.state, JSON.stringify(view.status)).to.equal('good');
      if (fixture === 'libgreet') lib = pkgid;
      else prog = pkgid;
    }
  });

  it('R: the base image\'s root dumped with debugfs rdump; its listing before anything is installed', async () => {
    expect(prog, 'the builds').to.be.greaterThan(0);
    const image = await ensureImage({ imageDir: s.config.imageDir, arch: 'x86_64', suite: s.config.builder.suite, log: s.ctx.log });
    R = path.join(tmp, 'root');
    await mkdir(R);
    const t0 = Date.now();
    const d = await execa('debugfs', ['-R', `rdump / ${R}`, image.rootImage], { env: SBIN, reject: false, all: true });
    expect(d.exitCode, d.all).to.equal(0);
    expect(existsSync(path.join(R, 'usr/lib/x86_64-linux-gnu/libc.so.6')), 'libc in R').to.equal(true);
    expect(existsSync(path.join(R, 'var/lib/mpm')), 'no mpm database yet').to.equal(false);
    const dumped = secs(t0);
    pristine = await listing(R, { ignore: IGNORED });
    const du = await execa('du', ['-sm', R]);
    console.log(`      R: rdump ${dumped}, listing ${secs(t0)} in all; ${Object.keys(pristine).length} paths, ${du.stdout.split(/\s/)[0]} MB`);
  });

  it('mpm install greet --yes: greet and libgreet (a dependency), exit 0', async () => {
    expect(pristine, 'R').to.not.equal(undefined);
    const t0 = Date.now();
    const r = await mpm('install', 'greet', '--yes');
    console.log(`      install: ${secs(t0)}`);
    expect(r.code, r.out + r.err).to.equal(0);
    expect(r.out).to.include(`installed libgreet 1.0 (pkgid ${lib}) as a dependency`).and.include(`installed greet 1.0 (pkgid ${prog})`);
    expect(r.out).to.match(/ldconfig: ran /);
  });

  it('chroot R /usr/bin/greet runs the installed program with the installed library', async () => {
    const r = await execa('chroot', [R, '/usr/bin/greet'], { env: SBIN, reject: false, all: true });
    console.log(`      chroot R /usr/bin/greet: exit ${r.exitCode}, ${JSON.stringify(r.all)}`);
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stdout).to.equal('hello from libgreet');
  });

  it('verify is clean; list --json shows greet explicit and libgreet as its dependency', async () => {
    const v = await mpm('verify');
    expect(v.code, v.out + v.err).to.equal(0);
    expect(v.out).to.match(/2 packages, \d+ files checked: no problems/);
    const l = await mpm('list', '--json');
    expect(l.code, l.err).to.equal(0);
    const items = JSON.parse(l.out).items.map((i: any) => ({ name: i.name, version: i.version, pkgid: i.pkgid, explicit: i.explicit }));
    expect(items).to.deep.equal([
      { name: 'greet', version: '1.0', pkgid: prog, explicit: true },
      { name: 'libgreet', version: '1.0', pkgid: lib, explicit: false },
    ]);
  });

  it('remove libgreet is refused (dependency), naming greet; both stay installed, intact', async () => {
    const r = await mpm('remove', 'libgreet', '--yes');
    expect(r.code).to.not.equal(0);
    expect(cliErrorCode(r), r.err).to.equal('dependency');
    expect(r.err).to.match(/cannot remove libgreet: greet depends on it/);
    // (the whole root untouched by a refusal is mpm-install.test.ts's; here: verify, and it still runs)
    expect((await mpm('verify')).out).to.match(/2 packages, \d+ files checked: no problems/);
    expect((await execa('chroot', [R, '/usr/bin/greet'], { env: SBIN, reject: false })).stdout).to.equal('hello from libgreet');
  });

  it('remove greet --orphans takes both away and leaves R as it was before the install', async () => {
    const r = await mpm('remove', 'greet', '--orphans', '--yes');
    expect(r.code, r.out + r.err).to.equal(0);
    expect(r.out).to.include(`removed greet 1.0 (pkgid ${prog})`).and.include(`removed libgreet 1.0 (pkgid ${lib}) (orphan)`);
    const now = await listing(R, { ignore: IGNORED });
    const differ = [...new Set([...Object.keys(pristine), ...Object.keys(now)])].filter((p) => now[p] !== pristine[p]);
    expect(differ.map((p) => `${p}: ${pristine[p] ?? 'absent'} -> ${now[p] ?? 'absent'}`)).to.deep.equal([]);
    // what is left of mpm's own: its empty database folder
    expect(await listing(path.join(R, 'var/lib/mpm'))).to.deep.equal({ '/installed': 'dir 755' });
    expect((await mpm('list')).out.trim()).to.equal('no packages installed');
    expect((await execa('chroot', [R, '/usr/bin/greet'], { env: SBIN, reject: false })).exitCode).to.not.equal(0);
  });
});
