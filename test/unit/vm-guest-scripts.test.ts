// The host-generated guest pieces: shell quoting of manifest commands, the phase script's
// stop-at-first-failure behaviour (run here with bash in a fake /build), and the QEMU command line.
import { expect } from 'chai';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { archProfile } from '../../src/builder/vm/arch-profile.js';
import { phaseScript, shellQuote } from '../../src/builder/vm/phase-script.js';
import { qemuArgs } from '../../src/builder/vm/qemu-args.js';

describe('guest scripts and QEMU arguments', () => {
  it('quotes any command so bash sees it unchanged', async () => {
    for (const s of ["make", "it's", "a 'b' \"c\" $HOME `x` \\ ;|&", "two\nlines", ""]) {
      const r = await execa('bash', ['-c', `printf %s ${shellQuote(s)}`]);
      expect(r.stdout).to.equal(s);
    }
  });

  describe('phaseScript', () => {
    let dir: string;
    beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'vm-phase-')); });
    afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

    /** runs the script with /build and /tmp pointed into `dir` */
    async function runPhase(commands: string[]): Promise<{ out: string; result: string[] }> {
      const script = phaseScript('build', commands).replaceAll('/tmp/', `${dir}/`).replaceAll('cd /build', `cd ${dir}`);
      await writeFile(path.join(dir, 'phase.sh'), script);
      const r = await execa('bash', [path.join(dir, 'phase.sh')], { all: true, reject: false });
      return { out: String(r.all), result: (await readFile(path.join(dir, 'morphux-build.result'), 'utf8')).trim().split(' ') };
    }

    it('runs every step in order and times them', async () => {
      const { out, result } = await runPhase(['echo one > a', "echo it\\'s $(cat a)", 'sleep 0.2']);
      expect(out).to.include("it's one");
      expect(result[0]).to.equal('0');
      expect(result[1]).to.equal('0');
      expect(Number(result[3])).to.be.greaterThanOrEqual(0.2);
    });

    it('stops at the first failing step and names it', async () => {
      const { out, result } = await runPhase(['true', 'exit 3', 'echo never']);
      expect(out).not.to.include('never');
      expect(result.slice(0, 2)).to.deep.equal(['3', '2']);
    });
  });

  it('gives the VM no network, a read-only base root and the chosen accelerator', () => {
    const image = { dir: '/i', rootImage: '/i/root.ext4', kernel: '/i/vmlinux', initrd: '/i/initrd.cpio.gz' };
    const args = qemuArgs({ profile: archProfile('x86_64'), image, accel: 'tcg', memoryMib: 512, cpus: 3, disks: { workDisk: '/w/work.ext4', resultDisk: '/w/result.img' } });
    const after = (flag: string) => args.filter((_, i) => args[i - 1] === flag);
    expect(after('-nic')).to.deep.equal(['none']);
    expect(args).not.to.include('-netdev');
    expect(after('-accel')).to.deep.equal(['tcg']);
    expect(after('-m')).to.deep.equal(['512']);
    expect(after('-smp')).to.deep.equal(['3']);
    expect(after('-drive').find((d) => d.startsWith('file=/i/root.ext4'))).to.include('readonly=on');
    expect(after('-append')[0]).to.include('panic=-1');
    expect(args).to.include('-no-reboot');
  });
});
