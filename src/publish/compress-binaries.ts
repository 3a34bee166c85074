// Recompresses a binaries archive (files.tar.gz) for publishing: gunzip, then zstd -19 or xz -9
// through the Debian CLIs (Node 20 has neither codec built in). Deterministic for the same input.
import { execa } from 'execa';
import { gunzipSync } from 'node:zlib';
import { MorphuxError } from '../domain/errors.js';

export type Compression = 'zstd' | 'xz';

const ARGS: Record<Compression, string[]> = { zstd: ['-19', '-q', '-c'], xz: ['-9', '-q', '-c'] };

export async function compressBinaries(filesTarGz: Buffer, codec: Compression): Promise<Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(filesTarGz);
  } catch (e) {
    throw new MorphuxError('unsafe_archive', `binaries archive is not gzip: ${(e as Error).message}`);
  }
  try {
    const r = await execa(codec, ARGS[codec], { input: tar, encoding: 'buffer', stripFinalNewline: false, maxBuffer: 4 * 1024 ** 3 });
    return Buffer.from(r.stdout);
  } catch (e) {
    throw new MorphuxError('infrastructure', `${codec} failed (is it installed? scripts/setup.sh installs it): ${(e as Error).message.split('\n')[0]}`);
  }
}
