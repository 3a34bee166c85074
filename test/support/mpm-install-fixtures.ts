// The packages and base root the installer tests share (test/e2e/mpm-install*.test.ts):
// libgreet (a shared library, a symlink to it, a header) and greet (a program needing it, a config
// file under /etc), in versions 1.0 and 1.1.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildPackage } from './install-plan-server.js';

/** What the packages below are made of. */
export const LIB_SO = 'libgreet 1.0: not really an ELF file\n';
export const libgreet = (pkgid: number, extra = 0) => buildPackage({
  name: 'libgreet', version: '1.0', pkgid,
  files: [
    { path: '/usr/lib/libgreet.so.1', mode: 0o755, body: LIB_SO },
    { path: '/usr/lib/libgreet.so', type: 'symlink', target: 'libgreet.so.1' },
    { path: '/usr/include/greet.h', body: 'int greet(const char *who);\n' },
    ...Array.from({ length: extra }, (_, i) => ({ path: `/usr/share/libgreet/data/${i}.txt`, body: `datum ${i}\n` })),
  ],
});
export const CONF_10 = 'greeting=hello\n';
export const CONF_11 = 'greeting=hello\ncolour=yes\n';
export const greet = (pkgid: number, version: '1.0' | '1.1') => buildPackage({
  name: 'greet', version, pkgid, dependencies: { libgreet: '>=1.0 <2' },
  files: [
    { path: '/usr/bin/greet', mode: 0o755, body: `#!/bin/sh\necho "hello from greet ${version}"\n` },
    { path: '/usr/bin/hello', type: 'hardlink', target: '/usr/bin/greet' },
    { path: '/etc/greet.conf', body: version === '1.0' ? CONF_10 : CONF_11 },
    { path: '/usr/share/doc/greet/README', body: `greet ${version}\n` },
  ],
});

/** A root with a few files of its own ("the base system"), one of them an empty folder. */
export async function baseRoot(tmp: string, name: string): Promise<string> {
  const r = path.join(tmp, name);
  await mkdir(path.join(r, 'etc'), { recursive: true });
  await writeFile(path.join(r, 'etc', 'hostname'), 'box\n');
  await mkdir(path.join(r, 'usr', 'bin'), { recursive: true }); // empty, and stays after greet goes
  await mkdir(path.join(r, 'usr', 'share', 'doc', 'base'), { recursive: true });
  await writeFile(path.join(r, 'usr', 'share', 'doc', 'base', 'README'), 'the base\n');
  return r;
}

/** mpm's own folder and the system caches the ldconfig trigger writes are left out of comparisons. */
export const IGNORED = ['/var', '/etc/ld.so.cache'];

