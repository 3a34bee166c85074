// The read path's hot cases answered on Node's own request and response, before Hono: GET/HEAD
// /pkg/<pkgid> of an existing submission (bytes from PkgFileCache, or the file streamed with
// backpressure) and GET /port/<name>[/<which>] that resolves (a 301). Anything else (a miss, a
// bad name, an error) returns false and Hono's routes (routes/downloads.ts) answer it, so both
// give the same answers from the same cache and the same queryTarget. A resolved /port target is
// remembered for up to a second and forgotten at every store commit of this server (a new good
// build, a stable flag); a maintainer or admin change, or another process's commit, counts
// within that second. bench/read-path.ts measures this path against nginx.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import type { AppContext } from '../service/app-context.js';
import { queryTarget } from '../service/query-target.js';
import { checkPkgid } from '../domain/names.js';
import { notModified, type PkgFileCache } from './pkg-file-cache.js';

const PKG = /^\/pkg\/([0-9]{1,10})$/;
const PORT = /^\/port\/([a-z0-9][a-z0-9+._-]*)(?:\/([A-Za-z0-9+._-]+))?$/;
const TARGET_MS = 1000;
const MAX_TARGETS = 10_000;

export type FastListener = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export function fastDownloads(ctx: Pick<AppContext, 'catalog' | 'owners' | 'users' | 'store'>, files: PkgFileCache): FastListener {
  const targets = new Map<string, { pkgid: number; at: number }>(); // by the URL path
  let commits = 0; // a target resolved across a commit is not remembered
  ctx.store.onCommit(() => { commits++; targets.clear(); });
  return async (req, res) => {
    const url = req.url ?? '';
    if (url.length > 300 || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const pkg = PKG.exec(url);
    if (pkg) {
      let pkgid: number;
      try {
        pkgid = checkPkgid(pkg[1]);
      } catch {
        return false;
      }
      const f = await files.get(pkgid);
      if (!f) return false;
      if (notModified(req.headers['if-none-match'], f.etag)) {
        res.writeHead(304, f.headers304).end();
      } else if (req.method === 'HEAD') {
        res.writeHead(200, f.headers).end();
      } else if (f.bytes) {
        res.writeHead(200, f.headers).end(f.bytes);
      } else {
        res.writeHead(200, f.headers);
        pipeline(createReadStream(f.file), res, () => {}); // a read error or a client gone: the response is cut
      }
      return true;
    }
    const port = req.method === 'GET' ? PORT.exec(url) : null;
    if (port) {
      const now = Date.now();
      let t = targets.get(url);
      if (!t || now - t.at >= TARGET_MS) {
        const seen = commits;
        const found = await queryTarget(ctx, port[1], port[2] ?? null);
        if (!('pkgid' in found)) return false;
        if (targets.size >= MAX_TARGETS) targets.clear();
        t = { pkgid: found.pkgid, at: now };
        if (seen === commits) targets.set(url, t);
      }
      res.writeHead(301, { Location: `/pkg/${t.pkgid}`, 'Cache-Control': 'no-cache' }).end();
      return true;
    }
    return false;
  };
}
