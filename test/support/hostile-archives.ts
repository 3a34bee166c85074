// The hostile archives every check must refuse, with the error code expected: shared by the
// unit test of inspectPortpkg and the upload test over HTTP.
import { gzipSync } from 'node:zlib';
import { gzipBomb, MANIFEST, rawTgz } from './raw-tar.js';

export const HOSTILE: Array<[string, Buffer, string]> = [
  ['a ../ entry', rawTgz([MANIFEST, { name: '../evil', body: 'x' }]), 'unsafe_archive'],
  ['a ../ inside a path', rawTgz([MANIFEST, { name: 'src/../../evil', body: 'x' }]), 'unsafe_archive'],
  ['an absolute path', rawTgz([MANIFEST, { name: '/etc/cron.d/evil', body: 'x' }]), 'unsafe_archive'],
  ['a symlink leading outside', rawTgz([MANIFEST, { name: 'out', type: '2', link: '../../etc' }]), 'unsafe_archive'],
  ['a symlink to an absolute path', rawTgz([MANIFEST, { name: 'passwd', type: '2', link: '/etc/passwd' }]), 'unsafe_archive'],
  ['a nested symlink leading outside', rawTgz([MANIFEST, { name: 'a/b/up', type: '2', link: '../../../x' }]), 'unsafe_archive'],
  ['a hard link leading outside', rawTgz([MANIFEST, { name: 'h', type: '1', link: '../outside' }]), 'unsafe_archive'],
  ['a hard link to an absolute path', rawTgz([MANIFEST, { name: 'h', type: '1', link: '/etc/shadow' }]), 'unsafe_archive'],
  ['a character device', rawTgz([MANIFEST, { name: 'null', type: '3' }]), 'unsafe_archive'],
  ['a block device', rawTgz([MANIFEST, { name: 'sda', type: '4' }]), 'unsafe_archive'],
  ['a fifo', rawTgz([MANIFEST, { name: 'pipe', type: '6' }]), 'unsafe_archive'],
  ['a .git folder', rawTgz([MANIFEST, { name: '.git/hooks/post-checkout', body: '#!/bin/sh' }]), 'unsafe_archive'],
  ['package.json as a symlink', rawTgz([{ name: 'package.json', type: '2', link: 'x.json' }]), 'unsafe_archive'],
  ['an entry claiming to unpack to 1 TiB', gzipBomb([MANIFEST, { name: 'big', size: 2 ** 40 }], 1), 'too_large'],
  ['a gzip bomb (600 MiB of zeros)', gzipBomb([MANIFEST], 600), 'too_large'],
  ['garbage', Buffer.from('this is not a tarball at all'), 'bad_request'],
  ['gzip of garbage', gzipSync(Buffer.from('x'.repeat(2000))), 'bad_request'],
];
