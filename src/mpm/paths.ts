// Small pure facts about in-root paths: folders on the way, config files (under /etc), shared
// libraries in a library folder (what makes the ldconfig trigger run).
import path from 'node:path';

/** The folders above in-root path `p`, outermost first, "/" left out. */
export function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let d = path.posix.dirname(p); d !== '/' && d !== '.'; d = path.posix.dirname(d)) out.unshift(d);
  return out;
}

export const depth = (p: string) => p.split('/').length;

export const isConfigPath = (p: string) => p.startsWith('/etc/');

const LIBDIR = /^\/(?:usr\/(?:local\/)?)?lib(?:32|64|x32)?(?:\/[a-z0-9_]+-linux-[a-z0-9_]+)?$/;
/** A shared library (lib*.so, lib*.so.N…) directly in a library folder. */
export const isSharedLibrary = (p: string) => LIBDIR.test(path.posix.dirname(p)) && /\.so(?:\.[0-9][0-9.]*)?$/.test(p);
