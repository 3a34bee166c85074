// The URLs people fetch: /pkg/<pkgid> (the portpkg bytes, strong ETag, immutable caching) and
// the query URLs /port/<name>, /port/<name>/stable, /port/<name>/<version>, each a 301 to a
// concrete /pkg/<pkgid> (the mpwa design: clients record the pkgurl they were sent to).
import { Hono } from 'hono';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { MorphuxError } from '../../domain/errors.js';
import { isPackageName } from '../../domain/names.js';
import { compareVersions } from '../../domain/version.js';
import { storePaths } from '../../store/store-paths.js';
import type { SubmissionInfo } from '../../store/submission-types.js';
import type { AppContext } from '../../service/app-context.js';
import { eligibleEntries } from '../../service/eligible-candidates.js';
import { parsePkgid } from './api-packages.js';

export function downloads(ctx: AppContext): Hono {
  const app = new Hono();

  app.on(['GET', 'HEAD'], '/pkg/:pkgid', async (c) => {
    const pkgid = parsePkgid(c.req.param('pkgid'));
    const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`);
    const file = ctx.store.abs(storePaths.portpkgTgz(pkgid));
    const st = await stat(file);
    const etag = `"${info.sha256}"`;
    const headers = {
      'Content-Type': 'application/gzip',
      ETag: etag,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'Content-Disposition': `attachment; filename="${info.name}-${info.version}-${pkgid}.tgz"`,
    };
    const inm = c.req.header('if-none-match');
    if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return c.body(null, 304, headers);
    if (c.req.method === 'HEAD') return c.body(null, 200, { ...headers, 'Content-Length': String(st.size) });
    const body = Readable.toWeb(createReadStream(file)) as ReadableStream;
    return c.body(body, 200, { ...headers, 'Content-Length': String(st.size) });
  });

  const redirect = (pkgid: number) => new Response(null, { status: 301, headers: { Location: `/pkg/${pkgid}`, 'Cache-Control': 'no-cache' } });
  const none = (what: string) => new MorphuxError('not_found', what);

  app.get('/port/:name', async (c) => {
    const name = c.req.param('name');
    if (!isPackageName(name)) throw none(`no package ${JSON.stringify(name.slice(0, 80))}`);
    const best = (await eligibleEntries(ctx, name))[0];
    if (!best) throw none(`${name} has no good submission yet`);
    return redirect(best.pkgid);
  });

  app.get('/port/:name/:which', async (c) => {
    const name = c.req.param('name');
    const which = c.req.param('which');
    if (!isPackageName(name)) throw none(`no package ${JSON.stringify(name.slice(0, 80))}`);
    if (which === 'stable') {
      const ix = await ctx.catalog.get(name);
      const s = ix?.submissions.filter((e) => e.stable && e.state === 'good').sort((a, b) => b.pkgid - a.pkgid)[0];
      if (!s) throw none(`${name} has no stable submission`);
      return redirect(s.pkgid);
    }
    const match = (await eligibleEntries(ctx, name)).filter((e) => compareVersions(e.version, which) === 0).sort((a, b) => b.pkgid - a.pkgid)[0];
    if (!match) throw none(`${name} has no good submission of version ${which.slice(0, 64)}`);
    return redirect(match.pkgid);
  });

  return app;
}
