// A real FTP server for tests: Debian's vsftpd (scripts/setup.sh installs it), on a free loopback
// port, anonymous logins writing into <root>/pub, passive ports on loopback, a config in a temp
// dir, in the foreground; kill() SIGKILLs the listener and every session process below it (each
// session calls setsid, so a process-group kill would miss them).
// `maxRate` slows transfers (bytes/s), so a test can kill the server mid-upload. init({ tls: true })
// makes it an explicit-TLS (AUTH TLS) server with a self-signed certificate for 127.0.0.1, made
// with openssl in the temp dir (`caFile`, the PEM a client must trust), TLS forced on every login.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { descendants } from './process-tree.js';
import { freePort } from './server-process.js';

const VSFTPD = '/usr/sbin/vsftpd';

export class Vsftpd {
  private proc: ResultPromise | null = null;
  port = 0;
  /** the anonymous root; the mirror's folder is <root>/pub (dir: /pub) */
  root = '';
  private confDir = '';
  private tls = false;

  static available(): boolean {
    return existsSync(VSFTPD);
  }

  /** Folder of the mirror on disk. */
  get pub(): string {
    return path.join(this.root, 'pub');
  }

  get url(): string {
    return `${this.tls ? 'ftps' : 'ftp'}://127.0.0.1:${this.port}`;
  }

  /** The self-signed certificate (PEM) of a TLS server: what a client trusts as its CA. */
  get caFile(): string {
    return path.join(this.confDir, 'server.pem');
  }

  async init(opts: { tls?: boolean } = {}): Promise<void> {
    if (!Vsftpd.available()) throw new Error(`${VSFTPD} is missing: run scripts/setup.sh as root (it installs Debian's vsftpd)`);
    this.confDir = await mkdtemp(path.join(os.tmpdir(), 'morphux-ftp-'));
    await chmod(this.confDir, 0o755);
    this.root = path.join(this.confDir, 'root');
    await mkdir(this.pub, { recursive: true });
    await chmod(this.root, 0o755);
    // anonymous sessions run as the `ftp` user: it owns the mirror folder, not the chroot root
    const { stdout } = await execa('id', ['-u', 'ftp']);
    const { stdout: gid } = await execa('id', ['-g', 'ftp']);
    await chown(this.pub, Number(stdout), Number(gid));
    this.port = await freePort();
    this.tls = opts.tls ?? false;
    if (this.tls) {
      await execa('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=morphux test ftps',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(this.confDir, 'server.key'), '-out', this.caFile,
      ]);
    }
  }

  /** Gives the mirror folder back to the ftp user (after a test rewrote it as root). */
  async ownPub(): Promise<void> {
    await execa('chown', ['-R', 'ftp:ftp', this.pub]);
  }

  async start(opts: { maxRate?: number } = {}): Promise<void> {
    const pasv = 20000 + Math.floor(Math.random() * 40000);
    const conf = path.join(this.confDir, 'vsftpd.conf');
    await writeFile(conf, [
      'listen=YES', 'listen_ipv6=NO', 'listen_address=127.0.0.1', `listen_port=${this.port}`, 'background=NO',
      'anonymous_enable=YES', 'local_enable=NO', 'no_anon_password=YES', `anon_root=${this.root}`,
      'write_enable=YES', 'anon_upload_enable=YES', 'anon_mkdir_write_enable=YES', 'anon_other_write_enable=YES', 'anon_umask=022',
      'pasv_enable=YES', 'pasv_address=127.0.0.1', `pasv_min_port=${pasv}`, `pasv_max_port=${pasv + 50}`, 'connect_from_port_20=NO',
      'seccomp_sandbox=NO', 'isolate=NO', 'isolate_network=NO', 'syslog_enable=NO', 'xferlog_enable=NO',
      `vsftpd_log_file=${path.join(this.confDir, 'vsftpd.log')}`, 'dual_log_enable=NO',
      `anon_max_rate=${opts.maxRate ?? 0}`,
      ...(this.tls ? [
        'ssl_enable=YES', 'allow_anon_ssl=YES', 'force_anon_logins_ssl=YES', 'force_anon_data_ssl=YES',
        `rsa_cert_file=${this.caFile}`, `rsa_private_key_file=${path.join(this.confDir, 'server.key')}`,
        // vsftpd 3.0.3 defaults to DES-CBC3-SHA, which OpenSSL 3 no longer offers
        'ssl_ciphers=HIGH', 'ssl_tlsv1=NO', 'ssl_sslv2=NO', 'ssl_sslv3=NO',
      ] : []),
      '',
    ].join('\n'));
    this.proc = execa(VSFTPD, [conf], { reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' });
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if (await answers(this.port)) return;
      if (this.proc.exitCode !== null) throw new Error(`vsftpd exited: ${String((await this.proc).stderr)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('vsftpd did not listen within 10 s');
  }

  /** SIGKILL to the listener and every session process it started, mid-transfer or not. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p?.pid) return;
    for (const pid of [p.pid, ...(await descendants(p.pid))]) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await p;
    this.proc = null;
  }

  async close(): Promise<void> {
    await this.kill();
    if (this.confDir) await rm(this.confDir, { recursive: true, force: true });
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('data', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    setTimeout(() => { s.destroy(); resolve(false); }, 1000);
  });
}
