// readResult + measureInstall over a synthetic result disk: one tar (meta/ + u2/) followed by
// zeros and junk that must never be read; malformed disks are `infrastructure` errors.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmod, link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create } from 'tar';
import { measureInstall } from '../../src/builder/vm/measure-install.js';
import { readResult } from '../../src/builder/vm/read-result.js';
import { refusal } from '../support/error-codes.js';

const RESULT = { version: 1, arch: 'x86_64', error: null, boot_uptime: 3.5, deps: { status: 0 },
  build: { status: 0, failed_step: 0, seconds: 1.25 }, install: { status: 0, failed_step: 0, seconds: 0.5 }, end_uptime: 9 };
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(96, 1)]);

const expectInfrastructure = async (p: Promise<unknown>) => expect((await refusal(p)).code).to.equal('infrastructure');

describe('readResult and measureInstall', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'vm-read-result-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  /** a result disk: the tar of `tree`, then `tail` (zeros, junk) */
  async function disk(files: Record<string, string | Buffer>, tail: Buffer, extra?: (tree: string) => Promise<void>): Promise<string> {
    const tree = path.join(dir, 'tree');
    for (const [p, body] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tree, p)), { recursive: true });
      await writeFile(path.join(tree, p), body);
    }
    await extra?.(tree);
    const tarFile = path.join(dir, 'r.tar');
    await create({ file: tarFile, cwd: tree, portable: false }, ['meta', 'u2']);
    const img = path.join(dir, 'result.img');
    await writeFile(img, Buffer.concat([await readFile(tarFile), tail]));
    return img;
  }

  it('reads the tar up to its end and measures the upper layer', async () => {
    const img = await disk({
      'meta/result.json': JSON.stringify(RESULT),
      'meta/build.log': '==> build step 1/1: make\n',
      'meta/existed': '/etc/motd\n',
      'u2/usr/bin/tool': ELF,
      'u2/usr/share/doc/tool/README': 'read me\n',
      'u2/etc/motd': 'changed\n',
      'u2/tmp/junk': 'x',
      'u2/build/obj.o': ELF,
      'u2/var/tmp/t': 'x',
      'u2/var/lib/tool/state': 'kept',
    }, Buffer.concat([Buffer.alloc(1 << 20), Buffer.from('junk after the end that is not a tar header'.repeat(20))]), async (tree) => {
      await link(path.join(tree, 'u2/usr/bin/tool'), path.join(tree, 'u2/usr/bin/tool-again'));
      await symlink('tool', path.join(tree, 'u2/usr/bin/tool-link'));
    });
    const r = await readResult(img, path.join(dir, 'out'));
    expect(r.result).to.deep.equal(RESULT);
    expect(await readFile(r.buildLog, 'utf8')).to.include('make');
    expect([...r.existed]).to.deep.equal(['/etc/motd']);

    const { measurements: m, installed } = await measureInstall({ upperDir: r.upperDir, existed: r.existed, arch: 'x86_64', compileSeconds: 1.25 });
    expect(m.files).to.have.members(['/usr/bin/tool', '/usr/bin/tool-again', '/usr/bin/tool-link', '/usr/share/doc/tool/README', '/var/lib/tool/state']);
    expect(m.modified_files).to.deep.equal(['/etc/motd']);
    expect(m.binaries).to.have.members(['/usr/bin/tool', '/usr/bin/tool-again']);
    // the two names of one inode count once; the symlink and directories count nothing
    expect(m.installed_size).to.equal(ELF.length + 'read me\n'.length + 'changed\n'.length + 'kept'.length);
    expect(m.compile_seconds).to.equal(1.25);
    const paths = installed.map((e) => e.path);
    for (const gone of ['/tmp', '/tmp/junk', '/build', '/build/obj.o', '/var/tmp', '/var/tmp/t']) expect(paths).not.to.include(gone);
    expect(paths).to.include('/var');
    const byPath = new Map(installed.map((e) => [e.path, e]));
    const hard = [byPath.get('/usr/bin/tool')!, byPath.get('/usr/bin/tool-again')!];
    expect(hard.map((e) => e.type).sort()).to.deep.equal(['file', 'hardlink']);
    expect(byPath.get('/usr/bin/tool-link')).to.include({ type: 'symlink', target: 'tool' });
    expect(byPath.get('/usr/share/doc/tool/README')!.sha256).to.equal(createHash('sha256').update('read me\n').digest('hex'));
    expect(byPath.get('/usr/share/doc/tool')!.type).to.equal('dir');
  });

  it('reads a result spanning many reads whole (reads grow from 64 KiB to 1 MiB), and nothing after it', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 12344);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    const img = await disk({
      'meta/result.json': JSON.stringify(RESULT),
      'u2/usr/lib/big.so': big,
      'u2/usr/share/after': 'after the big file\n',
    }, Buffer.concat([Buffer.alloc(3 << 20), Buffer.from('junk after the end'.repeat(100))]));
    const r = await readResult(img, path.join(dir, 'out'));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(await readFile(path.join(r.upperDir, 'usr/lib/big.so')))).to.equal(sha(big));
    expect(await readFile(path.join(r.upperDir, 'usr/share/after'), 'utf8')).to.equal('after the big file\n');
  });
  it('keeps the modes the guest wrote, group-writable and setuid ones too, whatever the host process\'s umask', async () => {
    const img = await disk({ 'meta/result.json': JSON.stringify(RESULT), 'u2/usr/share/x/f': 'f\n', 'u2/usr/bin/su': ELF }, Buffer.alloc(0), async (tree) => {
      await chmod(path.join(tree, 'u2/usr/share/x'), 0o2775);
      await chmod(path.join(tree, 'u2/usr/share/x/f'), 0o664);
      await chmod(path.join(tree, 'u2/usr/bin/su'), 0o4755);
    });
    const old = process.umask(0o022);
    try {
      const r = await readResult(img, path.join(dir, 'out'));
      const { installed } = await measureInstall({ upperDir: r.upperDir, existed: r.existed, arch: 'x86_64', compileSeconds: 0 });
      const mode = (p: string) => installed.find((e) => e.path === p)?.mode;
      expect([mode('/usr/share/x'), mode('/usr/share/x/f'), mode('/usr/bin/su'), mode('/usr/share')]).to.deep.equal([0o2775, 0o664, 0o4755, 0o755]);
    } finally {
      process.umask(old);
    }
  });

  it('refuses a disk with no tar on it', async () => {
    const img = path.join(dir, 'zeros.img');
    await writeFile(img, Buffer.alloc(1 << 16));
    await expectInfrastructure(readResult(img, path.join(dir, 'out')));
  });

  it('refuses a tar cut short', async () => {
    const img = await disk({ 'meta/result.json': JSON.stringify(RESULT), 'u2/usr/bin/tool': Buffer.alloc(100_000, 7) }, Buffer.alloc(0));
    const whole = await readFile(img);
    await writeFile(img, whole.subarray(0, 50_000));
    await expectInfrastructure(readResult(img, path.join(dir, 'out')));
  });

  for (const [title, body] of [['not JSON', '{'], ['off the schema', JSON.stringify({ ...RESULT, build: { status: 'ok' } })]] as const) {
    it(`refuses a result.json ${title}`, async () => {
      const img = await disk({ 'meta/result.json': body, 'u2/x': 'y' }, Buffer.alloc(4096));
      await expectInfrastructure(readResult(img, path.join(dir, 'out')));
    });
  }
});
