// The system's caches (domain/system-caches.ts): which paths they are, and that the binaries
// archive (packBinaries) and the manifest (measureInstall's `installed`) leave them out, with the
// directories they alone filled, while the measurements still record them.
import { expect } from 'chai';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { list } from 'tar';
import { measureInstall } from '../../src/builder/vm/measure-install.js';
import { packBinaries } from '../../src/builder/vm/pack-binaries.js';
import { isSystemCache, shippedPaths } from '../../src/domain/system-caches.js';

describe('system caches', () => {
  const caches = [
    '/etc/ld.so.cache', '/var/cache/ldconfig/aux-cache', '/usr/share/info/dir', '/usr/local/share/info/dir',
    '/usr/share/glib-2.0/schemas/gschemas.compiled', '/usr/share/icons/hicolor/icon-theme.cache',
    '/usr/share/applications/mimeinfo.cache', '/usr/share/mime/mime.cache', '/usr/share/mime/text/x-foo.xml',
    '/usr/lib/gdk-pixbuf-2.0/2.10.0/loaders.cache', '/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache',
    '/usr/lib/gio/modules/giomodule.cache', '/usr/lib64/gio/modules/giomodule.cache',
    '/var/cache/fontconfig/abc-le64.cache-9', '/var/cache/man/index.db',
  ];
  const notCaches = [
    '/etc/ld.so.conf', '/etc/ld.so.conf.d/zlib.conf', '/etc/ld.so.cache.d', '/var/cache/ldconfig',
    '/usr/share/info/zlib.info', '/usr/share/info', '/usr/share/mime', '/usr/share/mime/packages',
    '/usr/share/mime/packages/foo.xml', '/usr/share/glib-2.0/schemas/org.foo.gschema.xml',
    '/usr/share/icons/hicolor/48x48/apps/foo.png', '/usr/lib/libz.so.1', '/var/lib/foo/cache', '/usr/bin/ldconfig',
  ];
  for (const p of caches) it(`${p} is a system cache`, () => expect(isSystemCache(p)).to.equal(true));
  for (const p of notCaches) it(`${p} is not`, () => expect(isSystemCache(p)).to.equal(false));

  it('drops the directories only caches filled, keeps those empty from the start', () => {
    const entries = [
      ['/etc', true], ['/etc/ld.so.cache', false],
      ['/usr', true], ['/usr/share', true], ['/usr/share/mime', true], ['/usr/share/mime/mime.cache', false],
      ['/usr/share/mime/packages', true], ['/usr/share/mime/packages/foo.xml', false],
      ['/usr/share/mime/text', true], ['/usr/share/mime/text/x-foo.xml', false],
      ['/var', true], ['/var/cache', true], ['/var/cache/ldconfig', true], ['/var/cache/ldconfig/aux-cache', false],
      ['/var/lib', true], ['/var/lib/foo', true],
    ] as const;
    const kept = shippedPaths(entries.map(([p, dir]) => ({ path: p, dir })));
    expect([...kept].sort()).to.deep.equal([
      '/usr', '/usr/share', '/usr/share/mime', '/usr/share/mime/packages', '/usr/share/mime/packages/foo.xml',
      '/var', '/var/lib', '/var/lib/foo',
    ]);
  });

  describe('in what a build ships', () => {
    let dir: string;
    beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'system-caches-')); });
    afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

    async function upper(files: Record<string, string>): Promise<string> {
      const u = path.join(dir, 'u2');
      await mkdir(u);
      for (const [p, body] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(u, p)), { recursive: true });
        await writeFile(path.join(u, p), body);
      }
      return u;
    }

    async function archived(u: string): Promise<string[]> {
      const archive = path.join(dir, 'files.tar.gz');
      await packBinaries(u, archive);
      const names: string[] = [];
      await list({ file: archive, onReadEntry: (e) => { names.push(e.path.replace(/\/$/, '')); } });
      return names.sort();
    }

    it('zlib: the archive and the manifest carry the library, not ldconfig\'s caches', async () => {
      const u = await upper({ 'usr/lib/libz.so.1': 'lib', 'etc/ld.so.cache': 'cache', 'var/cache/ldconfig/aux-cache': 'aux' });
      expect(await archived(u)).to.deep.equal(['usr', 'usr/lib', 'usr/lib/libz.so.1']);

      const { measurements: m, installed } = await measureInstall({ upperDir: u, existed: new Set(['/etc/ld.so.cache']), arch: 'x86_64', compileSeconds: 1 });
      expect(installed.map((e) => e.path)).to.deep.equal(['/usr', '/usr/lib', '/usr/lib/libz.so.1']);
      // the builder still records what the install wrote
      expect(m.files).to.have.members(['/usr/lib/libz.so.1', '/var/cache/ldconfig/aux-cache']);
      expect(m.modified_files).to.deep.equal(['/etc/ld.so.cache']);
    });

    it('an install of caches only ships an empty archive and an empty manifest', async () => {
      const u = await upper({ 'etc/ld.so.cache': 'cache' });
      expect(await archived(u)).to.deep.equal([]);
      const { measurements: m, installed } = await measureInstall({ upperDir: u, existed: new Set(['/etc/ld.so.cache']), arch: 'x86_64', compileSeconds: 1 });
      expect(installed).to.deep.equal([]);
      expect(m.modified_files).to.deep.equal(['/etc/ld.so.cache']);
    });

    it('a directory that other content shares stays, with that content', async () => {
      const u = await upper({ 'etc/ld.so.cache': 'cache', 'etc/ld.so.conf.d/zlib.conf': '/opt/zlib/lib\n', 'usr/share/mime/packages/foo.xml': '<x/>', 'usr/share/mime/mime.cache': 'c' });
      await mkdir(path.join(u, 'var/lib/foo'), { recursive: true });
      const want = ['etc', 'etc/ld.so.conf.d', 'etc/ld.so.conf.d/zlib.conf', 'usr', 'usr/share', 'usr/share/mime', 'usr/share/mime/packages', 'usr/share/mime/packages/foo.xml', 'var', 'var/lib', 'var/lib/foo'];
      expect(await archived(u)).to.deep.equal(want);
      const { installed } = await measureInstall({ upperDir: u, existed: new Set(), arch: 'x86_64', compileSeconds: 1 });
      expect(installed.map((e) => e.path.slice(1)).sort()).to.deep.equal(want);
    });
  });
});
