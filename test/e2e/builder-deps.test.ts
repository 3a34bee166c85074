// Dependencies through the whole system: real server, real git pushes, real VMs. A program (greet)
// that links a C library (libgreet) fails with reason dependency while no good libgreet exists,
// and builds once libgreet is good, because libgreet's binaries are installed into its VM. Also:
// binaries/<arch>/ in the store, builds[arch] in status.json, the live log of a running build, and
// the build's signed provenance naming its dependency's binaries and the VM's image digests.
import { expect } from 'chai';
import { parsePublicKey, signingKeyId } from '../../src/domain/signed-index.js';
import { summarize } from '../../src/domain/provenance-check.js';
import { verifyProvenance } from '../../src/domain/provenance-statement.js';
import { PublishKeys } from '../../src/publish/publish-keys.js';
import { publishPaths } from '../../src/publish/publish-paths.js';
import { api, newUser, startTestServer, waitState, type TestServer } from '../support/test-server.js';
import { pushFixture } from '../support/git-client.js';

describe('builder dependencies end to end (libgreet → greet)', function () {
  this.timeout(600_000);
  let s: TestServer;
  let alice: string;
  let lib = 0;

  before(async () => {
    s = await startTestServer({ worker: true });
    await new PublishKeys(publishPaths(s.ctx.layout.publish)).init(); // builds' provenance is signed with it
    alice = await newUser(s, 'alice');
    for (const name of ['libgreet', 'greet']) expect((await api(s.url, 'POST', '/api/v1/repos', { name }, alice)).status).to.equal(201);
  });
  after(async () => s && (await s.close()));

  const push = (fixture: string, version: string) => pushFixture(s.url, fixture, version, 'alice', alice);

  it('fails a program whose library has no good submission with reason dependency, naming it, before any VM', async () => {
    const t0 = Date.now();
    const view = await waitState(s.url, await push('greet', '1.0'), 120_000);
    expect(view.status.state).to.equal('failed');
    expect(view.status.reason).to.equal('dependency');
    expect(view.status.message).to.include('libgreet');
    expect(view.status.builds.x86_64).to.include({ state: 'failed', reason: 'dependency' });
    expect(view.status.builds.x86_64.resolved_dependencies).to.deep.equal([]);
    expect(Date.now() - t0).to.be.lessThan(20_000); // no VM was booted for it
  });

  it('builds the library and stores its binaries (archive + manifest) under binaries/x86_64/', async () => {
    lib = await push('libgreet', '1.0');
    const t0 = Date.now();
    const view = await waitState(s.url, lib, 540_000);
    console.log(`      libgreet: ${view.status.state} in ${((Date.now() - t0) / 1000).toFixed(1)} s (push to good), phases ${JSON.stringify(view.status.build?.phases)}`);
    expect(view.status.state, JSON.stringify(view.status)).to.equal('good');
    expect(view.status.build.files).to.include.members(['/usr/lib/libgreet.so.1', '/usr/lib/libgreet.so', '/usr/include/greet.h']);
    expect(view.status.build.binaries).to.deep.equal(['/usr/lib/libgreet.so.1']);
    const dir = `/store/port/portpkgs/${(lib & 0x1f).toString(16).padStart(2, '0')}/00/${String(lib).padStart(8, '0')}/binaries/x86_64`;
    // /store serves the last commit; GET /api/v1/pkg/N may show the status a moment before it
    let manifest = await api(s.url, 'GET', `${dir}/manifest.json`);
    for (let i = 0; i < 50 && manifest.status === 404; i++) {
      await new Promise((x) => setTimeout(x, 200));
      manifest = await api(s.url, 'GET', `${dir}/manifest.json`);
    }
    expect(manifest.status).to.equal(200);
    expect(manifest.json).to.include({ pkgid: lib, arch: 'x86_64' });
    const so = manifest.json.files.find((f: any) => f.path === '/usr/lib/libgreet.so.1');
    expect(so).to.include({ type: 'file', mode: 0o755 });
    expect(so.sha256).to.match(/^[0-9a-f]{64}$/);
    expect(manifest.json.files.find((f: any) => f.path === '/usr/lib/libgreet.so')).to.include({ type: 'symlink', target: 'libgreet.so.1' });
    const archive = await fetch(`${s.url}${dir}/files.tar.gz`);
    expect(archive.status).to.equal(200);
    expect(Buffer.from(await archive.arrayBuffer()).subarray(0, 2)).to.deep.equal(Buffer.from([0x1f, 0x8b]));
  });

  it('builds the program against the installed library, streaming its log live until the build ends', async () => {
    const pkgid = await push('greet', '1.1');
    // follow the log while it builds: the response ends when the build ends
    for (let i = 0; i < 100 && (await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).json.status.state === 'queued'; i++) await new Promise((x) => setTimeout(x, 200));
    const t0 = Date.now();
    const res = await fetch(`${s.url}/api/v1/pkg/${pkgid}/log`);
    const live = await res.text();
    const atEnd = (await api(s.url, 'GET', `/api/v1/pkg/${pkgid}`)).json.status;
    console.log(`      greet: log stream open ${((Date.now() - t0) / 1000).toFixed(1)} s, ${live.length} bytes; state then ${atEnd.state}; phases ${JSON.stringify(atEnd.build?.phases)}`);
    expect(live).to.include(`dependencies libgreet 1.0 (pkgid ${lib})`);
    expect(live).to.include('hello from libgreet');
    const view = await waitState(s.url, pkgid, 540_000);
    expect(view.status.state, JSON.stringify(view.status)).to.equal('good');
    expect(atEnd.state).to.be.oneOf(['good', 'failed']); // the stream ended with the build
    expect(view.status.build.resolved_dependencies).to.deep.equal([lib]);
    expect(view.status.builds.x86_64.resolved_dependencies).to.deep.equal([lib]);
    expect(view.status.build.files).to.deep.equal(['/usr/bin/greet']); // the library's files are not greet's
    expect(view.status.build.binaries).to.deep.equal(['/usr/bin/greet']);

    // its provenance: signed with the publishing key, naming libgreet's pkgid and binaries and the VM's images
    const key = parsePublicKey((await new PublishKeys(publishPaths(s.ctx.layout.publish)).publicKeys())[0].public_key);
    let prov = await s.request(`/api/v1/pkg/${pkgid}/provenance/x86_64`);
    for (let i = 0; i < 50 && prov.status === 404; i++) {
      await new Promise((x) => setTimeout(x, 200));
      prov = await s.request(`/api/v1/pkg/${pkgid}/provenance/x86_64`);
    }
    expect(prov.status).to.equal(200);
    const { statement } = verifyProvenance(Buffer.from(await prov.arrayBuffer()), new Map([[signingKeyId(key), key]]));
    const sum = summarize(statement);
    const plan = (await api(s.url, 'GET', `/api/v1/install?pkg=${pkgid}&arch=x86_64`)).json;
    const [pl, pg] = plan.packages;
    expect(pl.pkgid).to.equal(lib);
    expect(sum).to.deep.include({ pkgid, arch: 'x86_64', binaries_sha256: pg.binaries.sha256, manifest_sha256: pg.manifest.sha256 });
    expect(sum.dependencies).to.deep.equal([{ pkgid: lib, name: 'libgreet', version: '1.0', binaries_sha256: pl.binaries.sha256 }]);
    for (const d of ['root_image', 'kernel', 'initrd'] as const) expect(sum.vm[d], d).to.match(/^[0-9a-f]{64}$/);
    expect(sum.builder_id).to.equal(`${s.url}/builders/embedded`);
    expect(Date.parse(sum.started_on!)).to.be.at.most(Date.parse(sum.finished_on!));
  });
});
