// GET /store/<path>: the store tree read-only over HTTP, served from the store's last commit
// (never from files being written), so readers only ever see committed, complete content.
// Files come back as bytes with the blob id as a strong ETag; folders as a JSON listing.
import { Hono } from 'hono';
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import { GitObjectReader, parseTree } from '../../store/tree/git-object-reader.js';
import { decodePath } from '../decode-path.js';
import { etagMatches } from '../etag.js';
import type { AppContext } from '../../service/app-context.js';

const TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.tgz': 'application/gzip',
  '.gz': 'application/gzip',
  '.log': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

export function storeFiles(ctx: AppContext, reader: GitObjectReader): Hono {
  const app = new Hono();
  app.on(['GET', 'HEAD'], '/*', async (c) => {
    let rel = decodePath(c.req.path.replace(/^\/store\/?/, '')).replace(/\/+$/, '');
    if (rel.split('/').some((s) => s === '..' || s === '.git') || rel.includes('\0') || /[\n\r]/.test(rel)) {
      throw new MorphuxError('not_found', 'no such path in the store');
    }
    if (rel === '.') rel = '';
    const obj = await reader.read(rel === '' ? 'HEAD^{tree}' : `HEAD:${rel}`);
    if (!obj) throw new MorphuxError('not_found', `no ${rel} in the store`);
    const etag = `"${obj.oid}"`;
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, { ETag: etag });
    c.header('ETag', etag);
    c.header('Cache-Control', 'no-cache');
    if (obj.type === 'tree') {
      const entries = parseTree(obj.data).map((e) => ({ name: e.name, type: e.type === 'tree' ? 'dir' : 'file' }));
      return c.json({ path: rel, entries });
    }
    c.header('Content-Type', TYPES[path.extname(rel)] ?? 'application/octet-stream');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Content-Length', String(obj.data.length));
    if (c.req.method === 'HEAD') return c.body(null, 200);
    return c.body(new Uint8Array(obj.data), 200);
  });
  return app;
}
