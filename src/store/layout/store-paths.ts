// Every path inside the store, in one place (crates.io's StorageKey): the layout of CONTRACT.md.
// All functions return paths relative to the store root, with forward slashes.
import { checkPackageName, checkPkgid } from '../../domain/names.js';
import type { Arch } from '../../domain/arch.js';

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

/** port/portpkgs/<xx>/<yy>/<pkgid as %08d> */
export function portpkgDir(pkgid: number): string {
  checkPkgid(pkgid);
  return `port/portpkgs/${hex2(pkgid & 0x1f)}/${hex2((pkgid >> 5) & 0x1f)}/${String(pkgid).padStart(8, '0')}`;
}

export const storePaths = {
  portpkgDir,
  portpkgTgz: (id: number) => `${portpkgDir(id)}/portpkg.tgz`,
  unpacked: (id: number) => `${portpkgDir(id)}/unpacked`,
  meta: (id: number) => `${portpkgDir(id)}/meta`,
  submissionInfo: (id: number) => `${portpkgDir(id)}/meta/submission_info.json`,
  status: (id: number) => `${portpkgDir(id)}/meta/status.json`,
  reports: (id: number) => `${portpkgDir(id)}/meta/reports`,
  report: (id: number, n: number) => `${portpkgDir(id)}/meta/reports/${n}.json`,
  reportLog: (id: number, n: number) => `${portpkgDir(id)}/meta/reports/${n}.log`,
  comments: (id: number) => `${portpkgDir(id)}/meta/comments`,
  flags: (id: number) => `${portpkgDir(id)}/meta/flags.json`,
  tags: (id: number) => `${portpkgDir(id)}/meta/tags.json`,
  votes: (id: number) => `${portpkgDir(id)}/meta/votes.json`,
  binaries: (id: number, arch: Arch) => `${portpkgDir(id)}/binaries/${arch}`,
  /** port/common/<first letter>/<name>: the newest submitted tree of a package */
  common: (name: string) => `port/common/${checkPackageName(name)[0]}/${name}`,
  /** index/ports/<first letter>/<name>.json: the package's flat index (lowdb) */
  portIndex: (name: string) => `index/ports/${checkPackageName(name)[0]}/${name}.json`,
  portIndexRoot: 'index/ports',
  portpkgsRoot: 'port/portpkgs',
};

/** pkgid of a store path port/portpkgs/xx/yy/NNNNNNNN[/…], or null */
export function pkgidOfPath(p: string): number | null {
  const m = /^port\/portpkgs\/[0-9a-f]{2}\/[0-9a-f]{2}\/([0-9]{8})(?:\/|$)/.exec(p);
  return m ? Number(m[1]) : null;
}
