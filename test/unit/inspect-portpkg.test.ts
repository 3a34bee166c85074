// inspectPortpkg refuses every hostile archive before anything is written: traversal, absolute
// paths, links leading outside, devices and fifos, .git entries, too many entries, and
// decompression bombs (claimed sizes, inflated bytes, zeros after the end); garbage is a bad_request.
import { expect } from 'chai';
import { configSchema } from '../../src/config/config-schema.js';
import { DEFAULT_PORTPKG_LIMITS, inspectPortpkg, portpkgLimits } from '../../src/portpkg/unpack-portpkg.js';
import { asyncCodeOf } from '../support/error-codes.js';
import { HOSTILE } from '../support/hostile-archives.js';
import { gzipBomb, MANIFEST, rawTar, rawTgz, type RawEntry } from '../support/raw-tar.js';

const small = { maxEntries: 10, maxUnpackedBytes: 1024 * 1024 };



describe('inspectPortpkg: hostile archives', () => {
  it('accepts a plain archive with files, folders and links that stay inside', async () => {
    const good: RawEntry[] = [MANIFEST, { name: 'src/', type: '5' }, { name: 'src/a.c', body: 'int x;' }, { name: 'src/link', type: '2', link: '../package.json' }, { name: 'hard', type: '1', link: 'src/a.c' }];
    const r = await inspectPortpkg(rawTgz(good));
    expect(r.entries).to.equal(5);
    expect(JSON.parse(r.manifest!.toString()).name).to.equal('evil');
  });

  for (const [what, tgz, code] of HOSTILE) {
    it(`refuses ${what} (${code})`, async () => {
      expect(await asyncCodeOf(inspectPortpkg(tgz))).to.equal(code);
    });
  }

  it('refuses more entries than allowed, bytes inflating past the limit, and data after the end', async () => {
    const many = rawTgz([MANIFEST, ...Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, body: 'x' }))]);
    expect(await asyncCodeOf(inspectPortpkg(many, small))).to.equal('too_large');
    const inflating = gzipBomb([MANIFEST, { name: 'zeros', size: 3 * 1024 * 1024 }], 3); // claims 3 MiB, limit 1
    expect(await asyncCodeOf(inspectPortpkg(inflating, small))).to.equal('too_large');
    const after = Buffer.concat([rawTgz([MANIFEST]), gzipBomb([], 1)]);
    expect(await asyncCodeOf(inspectPortpkg(after))).to.equal('too_large');
    expect(await asyncCodeOf(inspectPortpkg(rawTar([MANIFEST]), small))).to.equal(null); // an uncompressed tar is read too
  });
});

describe('portpkg limits', () => {
  it("the unpacker's defaults are the config's defaults", () => {
    expect(DEFAULT_PORTPKG_LIMITS).to.deep.equal(portpkgLimits(configSchema.parse({}).portpkg));
  });
});
