// The system's caches: files a distribution regenerates from what packages install (as pacman's
// hooks, apk's triggers and dpkg's triggers do) and that therefore no package ships. A build's
// `make install` may write them in the VM (GNU zlib runs ldconfig, meson's gnome.post_install runs
// glib-compile-schemas and gtk-update-icon-cache); installed as they are, they would overwrite the
// user's own. The builder still records them (measurements' files/modified_files); the binaries
// archive and the manifest leave them out, and so does a directory whose only content they were.
// One list, here, shared by the builder and the mpm client. Pure: no I/O.
//
// Patterns are absolute paths: `*` matches within one path segment, `{a,b}` either alternative,
// and a trailing `/` means everything below that directory (not the directory itself).
// `keep` names paths (with everything below them) that a broader pattern must not take.

export interface SystemCache {
  patterns: readonly string[];
  keep?: readonly string[];
  /** the tool that regenerates it */
  regenerated_by: string;
}

export const SYSTEM_CACHES: readonly SystemCache[] = [
  // glibc's cache of the shared libraries on the search path; ldconfig rewrites it whole (zlib's
  // `make install`, libtool --finish; pacman's and dpkg's ldconfig hooks run it after every change).
  { patterns: ['/etc/ld.so.cache'], regenerated_by: 'ldconfig' },
  // ldconfig's auxiliary cache (aux-cache): the directory belongs to ldconfig alone.
  { patterns: ['/var/cache/ldconfig/'], regenerated_by: 'ldconfig' },
  // The info directory: one file listing the manuals of every package; GNU `make install` updates
  // it with install-info (pacman's texinfo hook, dpkg's install-info trigger rebuild it). Shipped, it
  // would drop every other package's entries.
  { patterns: ['/usr{,/local}/share/info/dir'], regenerated_by: 'install-info' },
  // GSettings schemas compiled from schemas/*.gschema.xml (meson gnome.post_install; pacman's
  // glib-compile-schemas hook). Packages ship the .xml files only.
  { patterns: ['/usr{,/local}/share/glib-2.0/schemas/gschemas.compiled'], regenerated_by: 'glib-compile-schemas' },
  // The icon cache of each icon theme (pacman's gtk-update-icon-cache hook).
  { patterns: ['/usr{,/local}/share/icons/*/icon-theme.cache'], regenerated_by: 'gtk-update-icon-cache' },
  // MIME type → application cache built from every package's .desktop files.
  { patterns: ['/usr{,/local}/share/applications/mimeinfo.cache'], regenerated_by: 'update-desktop-database' },
  // The shared MIME database: everything in share/mime is generated from the packages/*.xml that
  // packages ship (mime.cache, globs, magic, the per-type folders…).
  { patterns: ['/usr{,/local}/share/mime/'], keep: ['/usr/share/mime/packages', '/usr/local/share/mime/packages'], regenerated_by: 'update-mime-database' },
  // gdk-pixbuf's list of image loaders (plain and Debian multiarch lib folders).
  { patterns: ['/usr/lib{,64,/*}/gdk-pixbuf-2.0/*/loaders.cache'], regenerated_by: 'gdk-pixbuf-query-loaders --update-cache' },
  // GIO's list of extension modules (pacman's gio-querymodules hook).
  { patterns: ['/usr/lib{,64,/*}/gio/modules/giomodule.cache'], regenerated_by: 'gio-querymodules' },
  // fontconfig's per-directory font caches.
  { patterns: ['/var/cache/fontconfig/'], regenerated_by: 'fc-cache' },
  // man-db's index of the installed manual pages.
  { patterns: ['/var/cache/man/'], regenerated_by: 'mandb' },
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** text without braces: `*` is any run within one segment, the rest literal */
const plain = (s: string) => s.split('*').map(escape).join('[^/]*');

/** A pattern as an anchored regular expression. */
function globRegExp(glob: string): RegExp {
  const below = glob.endsWith('/');
  const body = below ? glob.slice(0, -1) : glob;
  const re = body.split(/(\{[^{}]*\})/).map((part) =>
    part.startsWith('{') && part.endsWith('}') ? `(?:${part.slice(1, -1).split(',').map(plain).join('|')})` : plain(part)).join('');
  return new RegExp(`^${re}${below ? '/.+' : ''}$`);
}

const compiled = SYSTEM_CACHES.map((c) => ({ patterns: c.patterns.map(globRegExp), keep: c.keep ?? [] }));

/** Whether an absolute path (`/etc/ld.so.cache`) is one of the system's caches. */
export function isSystemCache(absPath: string): boolean {
  const p = absPath.replace(/\/+$/, '');
  return compiled.some((c) => c.patterns.some((r) => r.test(p)) && !c.keep.some((k) => p === k || p.startsWith(`${k}/`)));
}

/**
 * The paths a package ships out of what its install produced: every path but the system's caches
 * and the directories left empty by leaving them out (a directory that was empty to begin with is
 * kept). `entries` are absolute paths, each directory listed before or after its content.
 */
export function shippedPaths(entries: Iterable<{ path: string; dir: boolean }>): Set<string> {
  const all = [...entries].map((e) => ({ path: e.path.replace(/\/+$/, ''), dir: e.dir }));
  const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/'));
  const children = new Map<string, number>();
  for (const e of all) children.set(parentOf(e.path), (children.get(parentOf(e.path)) ?? 0) + 1);
  const keptChildren = new Map<string, number>();
  const kept = new Set<string>();
  // deepest first, so each directory is decided after all of its content
  const depth = (p: string) => p.split('/').length;
  for (const e of [...all].sort((a, b) => depth(b.path) - depth(a.path))) {
    const cache = isSystemCache(e.path);
    const n = children.get(e.path) ?? 0;
    const keep = e.dir ? (keptChildren.get(e.path) ?? 0) > 0 || (n === 0 && !cache) : !cache;
    if (!keep) continue;
    kept.add(e.path);
    const parent = parentOf(e.path);
    keptChildren.set(parent, (keptChildren.get(parent) ?? 0) + 1);
  }
  return kept;
}
