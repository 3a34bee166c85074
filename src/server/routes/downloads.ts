// The URLs people fetch: /pkg/<pkgid> (the portpkg bytes, strong ETag, immutable caching) and
// the query URLs /port/<name>, /port/<name>/stable, /port/<name>/<version>, each a 301 to a
// concrete /pkg/<pkgid> (the mpwa design: clients record the pkgurl they were sent to).
// The served server answers the common successful cases before Hono (fast-downloads.ts) from
// the same PkgFileCache and queryTarget; these routes answer the rest, errors included.
import { Hono } from 'hono';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { MorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { queryTarget, type QueryTarget } from '../../service/query-target.js';
import { notModified, PkgFileCache } from '../pkg-file-cache.js';
import { parsePkgid } from './api-packages.js';

export function downloads(ctx: AppContext, files: PkgFileCache = new PkgFileCache(ctx.store)): Hono {
  const app = new Hono();

  app.on(['GET', 'HEAD'], '/pkg/:pkgid', async (c) => {
    const pkgid = parsePkgid(c.req.param('pkgid'));
    const f = await files.get(pkgid);
    if (!f) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`);
    if (notModified(c.req.header('if-none-match'), f.etag)) return c.body(null, 304, f.headers304);
    if (c.req.method === 'HEAD') return c.body(null, 200, f.headers);
    if (f.bytes) return c.body(f.bytes, 200, f.headers);
    return c.body(Readable.toWeb(createReadStream(f.file)) as ReadableStream, 200, f.headers);
  });

  const answer = (t: QueryTarget) => {
    if ('none' in t) throw new MorphuxError('not_found', t.none);
    return new Response(null, { status: 301, headers: { Location: `/pkg/${t.pkgid}`, 'Cache-Control': 'no-cache' } });
  };
  app.get('/port/:name', async (c) => answer(await queryTarget(ctx, c.req.param('name'), null)));
  app.get('/port/:name/:which', async (c) => answer(await queryTarget(ctx, c.req.param('name'), c.req.param('which'))));

  return app;
}
