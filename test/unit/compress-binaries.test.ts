// The publishing compressor keeps every byte its codec wrote: execa strips a final newline from
// output, even binary output, unless told not to, which cut one compressed artifact in 256.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { compressBinaries } from '../../src/publish/compress-binaries.js';

describe('compressBinaries', () => {
  it('returns the codec output whole, even when its last byte is a newline (0x0a)', async () => {
    // found by search: Debian bookworm's zstd -19 output for this input ends in 0x0a (its checksum's last byte)
    const tar = Buffer.from('input 349\n'.repeat(3));
    const direct = execFileSync('zstd', ['-19', '-q', '-c'], { input: tar });
    expect(direct.at(-1), 'the input no longer makes a final 0x0a with this zstd: search another').to.equal(0x0a);
    const ours = await compressBinaries(gzipSync(tar), 'zstd');
    expect(ours.equals(direct)).to.equal(true);
    expect(execFileSync('zstd', ['-d', '-q', '-c'], { input: ours }).equals(tar)).to.equal(true);
  });
});
