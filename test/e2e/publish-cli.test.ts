// The operator's and the user's commands around publishing, as processes: `morphux keys`,
// `morphux mirror push | status` (pending and failed while the FTP server is down, clean once it
// is back), `mpm get --mirror`; and `morphux serve` publishing on its own in the background.
import { expect } from 'chai';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { PublishKeys } from '../../src/publish/publish-keys.js';
import { publishPaths } from '../../src/publish/publish-paths.js';
import { cliErrorCode, runCli } from '../support/cli-bin.js';
import { goodSubmission, maintainer } from '../support/good-submission.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { Vsftpd } from '../support/vsftpd.js';

const run = (cli: 'morphux' | 'mpm', args: string[], env: Record<string, string> = {}) => runCli(cli, args, { env });

const mirrorConfig = (ftp: Vsftpd, dir: string, interval = 3600) => YAML.stringify({
  publish: { interval_seconds: interval, retry_base_seconds: 1, mirrors: [{ name: 'main', url: ftp.url, dir }] },
});

describe('publish commands: morphux keys, morphux mirror, mpm get --mirror, serve in the background', function () {
  this.timeout(300_000);
  const ftp = new Vsftpd();
  let s: TestServer;
  let work: string;
  let cfg: string;
  let toolMaintainer: { user: string; token: string };

  before(async () => {
    await ftp.init();
    await ftp.start();
    s = await startTestServer({ worker: false });
    work = await mkdtemp(path.join(os.tmpdir(), 'morphux-publish-cli-'));
    cfg = path.join(work, 'morphux.yaml');
    await writeFile(cfg, mirrorConfig(ftp, '/pub/cli'));
  });
  after(async () => {
    await s?.close();
    await ftp.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('keys init, then show-public prints the pinned form; a second init is refused', async () => {
    const init = await run('morphux', ['keys', 'init', '--data', s.data, '--config', cfg, '--json']);
    expect(init.code, init.err).to.equal(0);
    const again = await run('morphux', ['keys', 'init', '--data', s.data, '--config', cfg]);
    expect(again.code).to.equal(1);
    expect(cliErrorCode(again), again.err).to.equal('already_exists');
    const show = await run('morphux', ['keys', 'show-public', '--data', s.data, '--config', cfg, '--json']);
    const keys = JSON.parse(show.out);
    expect(keys).to.have.length(1);
    expect(keys[0].key_id).to.equal(JSON.parse(init.out).signing);
    expect(keys[0].public_key).to.match(/^ed25519:[A-Za-z0-9+/]{43}=$/);
  });

  it('mirror push fails while the FTP server is down, status shows pending and failed; both clear once it is back', async () => {
    toolMaintainer = await maintainer(s, 'tool');
    await goodSubmission(s, toolMaintainer, 'tool', '1.0', { 'usr/bin/tool': 'tool\n' });
    await ftp.kill();
    const down = await run('morphux', ['mirror', 'push', '--data', s.data, '--config', cfg, '--json']);
    expect(down.code).to.equal(1);
    const st = JSON.parse((await run('morphux', ['mirror', 'status', '--data', s.data, '--config', cfg, '--json'])).out).mirrors[0];
    expect(st.pending.map((p: string) => /\.(manifest\.json\.enc|provenance\.dsse\.json)$/.exec(p)?.[1] ?? 'artifact')).to.have.members(['artifact', 'manifest.json.enc', 'provenance.dsse.json']); // each build's artifact, manifest and provenance
    expect(st.failed.map((f: { path: string }) => f.path)).to.deep.equal(['(connection)']);
    expect(st.failed[0].count).to.equal(1);
    expect(Date.parse(st.failed[0].next_at)).to.be.greaterThan(Date.parse(st.failed[0].last_at));

    await ftp.start();
    const up = await run('morphux', ['mirror', 'push', '--data', s.data, '--config', cfg]);
    expect(up.code, up.err).to.equal(0);
    const st2 = JSON.parse((await run('morphux', ['mirror', 'status', '--data', s.data, '--config', cfg, '--json'])).out).mirrors[0];
    expect(st2).to.deep.include({ pending: [], failed: [], confirmed: 1 });
    expect(st2.index.sequence).to.equal(1);
  });

  it('mpm get --mirror verifies, decrypts and writes the archive; the mpm config file can name the mirror and keys', async () => {
    const keys = new PublishKeys(publishPaths(s.ctx.layout.publish));
    const pk = (await keys.publicKeys())[0].public_key;
    const contentKeys = path.join(work, 'content.json');
    const ex = await run('morphux', ['keys', 'export-content-keys', '--data', s.data, '--config', cfg, '-o', contentKeys]);
    expect(ex.code, ex.err).to.equal(0);
    const env = { XDG_DATA_HOME: path.join(work, 'share'), XDG_CONFIG_HOME: path.join(work, 'config') };
    const out = path.join(work, 'tool.tar.zst');
    const r = await run('mpm', ['--json', 'get', 'tool', '--mirror', `${ftp.url}/pub/cli`, '--public-key', pk, '--content-keys', contentKeys, '-o', out], env);
    expect(r.code, r.err).to.equal(0);
    expect(JSON.parse(r.out)).to.include({ name: 'tool', version: '1.0', sequence: 1 });
    const tar = await execa('zstd', ['-d', '-c', out], { encoding: 'buffer', stripFinalNewline: false });
    expect(Buffer.from(tar.stdout).includes(Buffer.from('usr/bin/tool'))).to.equal(true);

    await writeFile(path.join(work, 'mpm.json'), JSON.stringify({ mirror: `${ftp.url}/pub/cli`, public_keys: [pk], content_keys_file: contentKeys }));
    const viaConfig = await run('mpm', ['get', 'tool', '--mirror', '--extract', path.join(work, 'tool-x')], { ...env, MPM_CONFIG: path.join(work, 'mpm.json') });
    expect(viaConfig.code, viaConfig.err).to.equal(0);
    expect(await readFile(path.join(work, 'tool-x', 'usr/bin/tool'), 'utf8')).to.equal('tool\n');

    const wrong = await run('mpm', ['get', 'tool', '--mirror', `${ftp.url}/pub/cli`, '--public-key', `ed25519:${Buffer.alloc(32, 7).toString('base64')}`, '--content-keys', contentKeys, '-o', path.join(work, 'no.tar.zst')], env);
    expect(wrong.code).to.equal(1);
    expect(cliErrorCode(wrong), wrong.err).to.equal('unknown_key');
    expect(existsSync(path.join(work, 'no.tar.zst'))).to.equal(false);
  });

  it('keys rotate, then mirror push: mpm pinning only the old key gets the new package through the signed rotation statement', async () => {
    const oldKey = (await new PublishKeys(publishPaths(s.ctx.layout.publish)).publicKeys())[0].public_key;
    const rot = await run('morphux', ['keys', 'rotate', '--data', s.data, '--config', cfg, '--json']);
    expect(rot.code, rot.err).to.equal(0);
    expect(JSON.parse(rot.out).rotation).to.equal(1);
    await goodSubmission(s, toolMaintainer, 'tool', '2.0', { 'usr/bin/tool': 'tool two\n' });
    const push = await run('morphux', ['mirror', 'push', '--data', s.data, '--config', cfg, '--json']);
    expect(push.code, push.err).to.equal(0);
    expect(JSON.parse(push.out).mirrors[0].uploaded).to.include('keys/rotation-1.json');
    const contentKeys = path.join(work, 'content-after-rotation.json');
    expect((await run('morphux', ['keys', 'export-content-keys', '--data', s.data, '--config', cfg, '-o', contentKeys])).code).to.equal(0);
    const env = { XDG_DATA_HOME: path.join(work, 'share'), XDG_CONFIG_HOME: path.join(work, 'config') };
    const r = await run('mpm', ['--json', 'get', 'tool', '--mirror', `${ftp.url}/pub/cli`, '--public-key', oldKey, '--content-keys', contentKeys, '--extract', path.join(work, 'tool-2')], env);
    expect(r.code, r.err).to.equal(0);
    expect(JSON.parse(r.out)).to.include({ name: 'tool', version: '2.0' });
    expect(await readFile(path.join(work, 'tool-2', 'usr/bin/tool'), 'utf8')).to.equal('tool two\n');
  });

  it('morphux serve publishes a new good submission in the background', async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), 'morphux-bg-'));
    await writeFile(path.join(data, 'morphux.yaml'), mirrorConfig(ftp, '/pub/bg', 1));
    await new PublishKeys(publishPaths(path.join(data, 'publish'))).init();
    const bg = await startTestServer({ worker: false, data });
    try {
      const who = await maintainer(bg, 'bgpkg');
      const pkgid = await goodSubmission(bg, who, 'bgpkg', '1.0', { 'usr/bin/bgpkg': 'bg\n' });
      const index = path.join(ftp.pub, 'bg', 'index.json');
      let listed: number[] = [];
      for (const until = Date.now() + 60_000; !listed.includes(pkgid) && Date.now() < until;) {
        await new Promise((r) => setTimeout(r, 500));
        try {
          listed = JSON.parse(JSON.parse(await readFile(index, 'utf8')).payload).artifacts.map((a: { pkgid: number }) => a.pkgid);
        } catch { /* not there yet */ }
      }
      expect(listed).to.include(pkgid);
    } finally {
      await bg.close();
    }
  });
});
