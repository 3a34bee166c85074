// Publishing to an FTPS mirror (vsftpd with explicit TLS and a self-signed certificate made by the
// test): with tls_verify and no trusted CA the push fails and `morphux mirror status` records
// tls_untrusted; with the certificate as the mirror's ca_file it goes through; `mpm get --mirror
// ftps://…` refuses the server the same way until given --ca-file, then verifies and unpacks.
import { Client } from 'basic-ftp';
import { expect } from 'chai';
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

describe('publish over FTPS (vsftpd, explicit TLS, self-signed certificate)', function () {
  this.timeout(300_000);
  const ftp = new Vsftpd();
  let s: TestServer;
  let work: string;
  let cfg: string;
  const writeConfig = (mirror: Record<string, unknown>) => writeFile(cfg, YAML.stringify({
    publish: { retry_base_seconds: 1, mirrors: [{ name: 'tls', url: ftp.url, dir: '/pub/tls', tls_verify: true, ...mirror }] },
  }));
  const morphux = (...args: string[]) => run('morphux', [...args, '--data', s.data, '--config', cfg]);
  const status = async () => JSON.parse((await morphux('mirror', 'status', '--json')).out).mirrors[0];

  before(async () => {
    await ftp.init({ tls: true });
    await ftp.start();
    s = await startTestServer({ worker: false });
    work = await mkdtemp(path.join(os.tmpdir(), 'morphux-ftps-'));
    cfg = path.join(work, 'morphux.yaml');
    await new PublishKeys(publishPaths(s.ctx.layout.publish)).init();
    const who = await maintainer(s, 'secure');
    await goodSubmission(s, who, 'secure', '1.0', { 'usr/bin/secure': 'over tls\n' });
  });
  after(async () => {
    await s?.close();
    await ftp.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the server refuses a plain FTP login: every transfer here goes over TLS', async () => {
    const c = new Client(10_000);
    try {
      let err: unknown = null;
      await c.access({ host: '127.0.0.1', port: ftp.port, user: 'anonymous', password: 'x', secure: false }).catch((e) => { err = e; });
      expect((err as { code?: number })?.code).to.equal(530);
    } finally {
      c.close();
    }
    expect(ftp.url).to.match(/^ftps:\/\//);
  });

  it('tls_verify with an untrusted certificate: the push fails, mirror status records tls_untrusted, nothing is on the mirror', async () => {
    await writeConfig({});
    const push = await morphux('mirror', 'push');
    expect(push.code).to.equal(1);
    const st = await status();
    expect(st.failed.map((f: { path: string; code: string }) => [f.path, f.code])).to.deep.equal([['(connection)', 'tls_untrusted']]);
    expect(st.pending.map((p: string) => /\.(manifest\.json\.enc|provenance\.dsse\.json)$/.exec(p)?.[1] ?? 'artifact')).to.have.members(['artifact', 'manifest.json.enc', 'provenance.dsse.json']); // each build's artifact, manifest and provenance
    expect(st.index).to.equal(null);
    expect(existsSync(path.join(ftp.pub, 'tls'))).to.equal(false);
    const text = await morphux('mirror', 'status');
    expect(text.out).to.include('failed  (connection)');
  });

  it('with the certificate as the mirror\'s ca_file the push goes through and the status is clean', async () => {
    await writeConfig({ ca_file: ftp.caFile });
    const push = await morphux('mirror', 'push');
    expect(push.code, push.err).to.equal(0);
    expect(await status()).to.deep.include({ pending: [], failed: [], confirmed: 1 });
    expect(JSON.parse(JSON.parse(await readFile(path.join(ftp.pub, 'tls', 'index.json'), 'utf8')).payload).artifacts).to.have.length(1);
  });

  it('mpm get --mirror ftps://… refuses the untrusted server (tls_untrusted), then verifies and unpacks with --ca-file', async () => {
    const keys = new PublishKeys(publishPaths(s.ctx.layout.publish));
    const pk = (await keys.publicKeys())[0].public_key;
    const contentKeys = path.join(work, 'content.json');
    await writeFile(contentKeys, JSON.stringify(await keys.contentKeysFile()));
    const env = { XDG_DATA_HOME: path.join(work, 'share'), XDG_CONFIG_HOME: path.join(work, 'config') };
    const args = ['get', 'secure', '--mirror', `${ftp.url}/pub/tls`, '--public-key', pk, '--content-keys', contentKeys];
    const out = path.join(work, 'secure-x');

    const refused = await run('mpm', [...args, '--extract', out], env);
    expect(refused.code).to.equal(1);
    expect(cliErrorCode(refused), refused.err).to.equal('tls_untrusted');
    expect(existsSync(out)).to.equal(false);
    expect(existsSync(path.join(work, 'share', 'mpm', 'mirrors.json'))).to.equal(false);

    const ok = await run('mpm', ['--json', ...args, '--extract', out, '--ca-file', ftp.caFile], env);
    expect(ok.code, ok.err).to.equal(0);
    expect(JSON.parse(ok.out)).to.include({ name: 'secure', version: '1.0', sequence: 1 });
    expect(await readFile(path.join(out, 'usr/bin/secure'), 'utf8')).to.equal('over tls\n');

    const viaEnv = await run('mpm', [...args, '-o', path.join(work, 'secure.tar.zst')], { ...env, MPM_CA_FILE: ftp.caFile });
    expect(viaEnv.code, viaEnv.err).to.equal(0);
  });
});
