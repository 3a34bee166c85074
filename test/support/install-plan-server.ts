// A stand-in for the server half of `mpm install` (docs/install-plan.md) for the client's tests:
// packages made here as real tar.gz archives with manifests derived from them, a plan resolver
// over "the current pkgid of each name", served by node:http on 127.0.0.1; plus a listing of a
// root directory (paths, types, modes, sizes, sha256) to compare before and after.
import { createHash } from 'node:crypto';
import { chmod, link, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';

export interface PkgFile {
  /** absolute path as installed: /usr/bin/greet */
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode?: number;
  body?: string | Buffer;
  target?: string;
}
export interface PkgSpec {
  name: string;
  version: string;
  pkgid: number;
  dependencies?: Record<string, string>;
  files: PkgFile[];
}
export interface BuiltPkg extends PkgSpec {
  archive: Buffer;
  manifest: Buffer;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const ARCH = 'x86_64';

/** The package as the builder would publish it: a tar.gz of its tree (paths relative to /) and a
 *  manifest listing every archive entry with st_mode, size, sha256, link target. */
export async function buildPackage(p: PkgSpec): Promise<BuiltPkg> {
  const tree = await mkdtemp(path.join(os.tmpdir(), `mpm-pkg-${p.name}-`));
  try {
    const order = (f: PkgFile) => (f.type === 'hardlink' ? 1000 : 0) + f.path.split('/').length;
    for (const f of [...p.files].sort((a, b) => order(a) - order(b))) {
      const at = path.join(tree, f.path);
      await mkdir(path.dirname(at), { recursive: true });
      if (f.type === 'dir') await mkdir(at, { recursive: true });
      else if (f.type === 'hardlink') await link(path.join(tree, f.target!), at);
      else if (f.type === 'symlink') await symlink(f.target!, at);
      else await writeFile(at, f.body ?? '');
      if (f.type !== 'symlink' && f.type !== 'hardlink') await chmod(at, f.mode ?? (f.type === 'dir' ? 0o755 : 0o644));
    }
    const tops = [...new Set(p.files.map((f) => f.path.split('/')[1]))].sort();
    const archive = Buffer.concat(await collect(tar.c({ gzip: true, cwd: tree, portable: true }, tops)));
    const files: unknown[] = [];
    const entries: Array<{ path: string; type: string; mode: number; linkpath?: string; body: Buffer[] }> = [];
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({
        onReadEntry: (e: tar.ReadEntry) => {
          const item = { path: `/${e.path.replace(/\/$/, '')}`, type: e.type, mode: e.mode ?? 0, linkpath: e.linkpath, body: [] as Buffer[] };
          entries.push(item);
          e.on('data', (c: Buffer) => item.body.push(c));
        },
      });
      parser.on('end', resolve);
      parser.on('error', reject);
      parser.end(archive);
    });
    for (const e of entries) {
      if (e.type === 'Directory') files.push({ path: e.path, type: 'dir', mode: 0o040000 | e.mode });
      else if (e.type === 'SymbolicLink') files.push({ path: e.path, type: 'symlink', mode: 0o120777, target: e.linkpath });
      else if (e.type === 'Link') files.push({ path: e.path, type: 'hardlink', mode: 0o100000 | e.mode, target: `/${e.linkpath}` });
      else {
        const body = Buffer.concat(e.body);
        files.push({ path: e.path, type: 'file', mode: 0o100000 | e.mode, size: body.length, sha256: sha(body) });
      }
    }
    const manifest = Buffer.from(JSON.stringify({ pkgid: p.pkgid, name: p.name, version: p.version, arch: ARCH, files }));
    return { ...p, archive, manifest };
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

async function collect(s: AsyncIterable<Buffer> | NodeJS.ReadableStream): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) out.push(Buffer.from(c));
  return out;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean;

export interface PlanServer {
  url: string;
  /** every package by pkgid */
  pkgs: Map<number, BuiltPkg>;
  /** what a bare NAME resolves to */
  current: Map<string, number>;
  /** pkgids whose archive is served with other bytes than the plan's sha256 */
  tampered: Set<number>;
  /** answers before the normal ones when it returns true */
  override: Handler | null;
  /** the install queries seen */
  queries: URLSearchParams[];
  add(p: BuiltPkg, current?: boolean): void;
  close(): Promise<void>;
}

const json = (res: http.ServerResponse, status: number, v: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(typeof v === 'string' ? v : JSON.stringify(v));
const error = (res: http.ServerResponse, status: number, code: string, message: string) => json(res, status, { error: { code, message } });

export async function startPlanServer(): Promise<PlanServer> {
  const me: PlanServer = {
    url: '', pkgs: new Map(), current: new Map(), tampered: new Set(), override: null, queries: [],
    add(p, current = true) {
      me.pkgs.set(p.pkgid, p);
      if (current) me.current.set(p.name, p.pkgid);
    },
    close: async () => {},
  };
  const entry = (p: BuiltPkg, explicit: boolean, resolved: Record<string, number>) => ({
    name: p.name, version: p.version, pkgid: p.pkgid, pkgurl: `${me.url}/pkg/${p.pkgid}`, arch: ARCH, explicit,
    installed_size: p.files.reduce((a, f) => a + Buffer.byteLength(f.body ?? ''), 0), compile_seconds: 1.5,
    dependencies: p.dependencies ?? {}, resolved,
    binaries: { url: `${me.url}/pkg/${p.pkgid}/binaries/${ARCH}`, size: p.archive.length, sha256: sha(p.archive) },
    manifest: { url: `${me.url}/pkg/${p.pkgid}/binaries/${ARCH}/manifest`, sha256: sha(p.manifest) },
  });
  const plan = (res: http.ServerResponse, q: URLSearchParams) => {
    const specs = q.getAll('pkg');
    const installed = new Map((q.get('installed') ?? '').split(',').filter(Boolean).map((s) => [s.split('@')[0], Number(s.split('@')[1])]));
    const order: BuiltPkg[] = [];
    const asked = new Set<string>();
    const visit = (p: BuiltPkg, trail: string[]): string | null => {
      if (order.includes(p)) return null;
      if (trail.includes(p.name)) return `dependency cycle: ${[...trail, p.name].join(' -> ')}`;
      for (const [dep, range] of Object.entries(p.dependencies ?? {})) {
        const id = me.current.get(dep);
        if (id === undefined) return `${p.name} needs ${dep} ${range}: no such package`;
        const bad = visit(me.pkgs.get(id)!, [...trail, p.name]);
        if (bad) return bad;
      }
      order.push(p);
      return null;
    };
    for (const s of specs) {
      const [name, which] = s.split('@');
      let id: number | undefined;
      if (/^[0-9]+$/.test(s)) id = me.pkgs.has(Number(s)) ? Number(s) : undefined;
      else if (which && which !== 'stable') id = [...me.pkgs.values()].filter((p) => p.name === name && p.version === which).map((p) => p.pkgid).sort((a, b) => b - a)[0];
      else id = me.current.get(name);
      if (id === undefined) return error(res, 404, 'not_found', `no package ${s} for ${ARCH}`);
      asked.add(me.pkgs.get(id)!.name);
      const bad = visit(me.pkgs.get(id)!, []);
      if (bad) return error(res, 422, 'dependency', bad);
    }
    const resolvedOf = (p: BuiltPkg) => Object.fromEntries(Object.keys(p.dependencies ?? {}).map((d) => [d, me.current.get(d)!]));
    const body: Record<string, unknown> = {
      arch: ARCH, requested: specs,
      packages: order.filter((p) => installed.get(p.name) !== p.pkgid).map((p) => entry(p, asked.has(p.name), resolvedOf(p))),
    };
    if (q.has('installed')) body.unchanged = order.filter((p) => installed.get(p.name) === p.pkgid).map((p) => ({ name: p.name, pkgid: p.pkgid }));
    json(res, 200, body);
  };
  const srv = http.createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', me.url);
    if (me.override?.(req, res, url)) return;
    if (url.pathname === '/api/v1/install') {
      me.queries.push(url.searchParams);
      return plan(res, url.searchParams);
    }
    const m = /^\/pkg\/([0-9]+)\/binaries\/([a-z0-9_]+)(\/manifest)?$/.exec(url.pathname);
    const p = m ? me.pkgs.get(Number(m[1])) : undefined;
    if (!m || !p || m[2] !== ARCH) return error(res, 404, 'not_found', 'no such binaries');
    if (m[3]) return json(res, 200, p.manifest.toString());
    let bytes = p.archive;
    if (me.tampered.has(p.pkgid)) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length - 5] ^= 0xff;
    }
    res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': bytes.length }).end(bytes);
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  me.url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  me.close = () => new Promise<void>((ok) => { srv.closeAllConnections(); srv.close(() => ok()); });
  return me;
}

export interface ListingOptions {
  /** in-root paths left out, with everything under them */
  ignore?: string[];
}

/** Every path under `root` ("/etc/x"), with type, mode, size and sha256 (or link target): what
 *  "untouched" is compared on (mtimes left out). */
export async function listing(root: string, o: ListingOptions = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const p = `${rel}/${name}`;
      if (o.ignore?.some((i) => p === i || p.startsWith(`${i}/`))) continue;
      const st = await lstat(path.join(root, p));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[p] = `dir ${mode}`;
        await walk(p);
      } else if (st.isSymbolicLink()) out[p] = `symlink -> ${await readlink(path.join(root, p))}`;
      else out[p] = `file ${mode} ${st.size} ${sha(await readFile(path.join(root, p)))}`;
    }
  };
  await walk('');
  return out;
}
