// GET /api/v1/pkg/<pkgid>/provenance/<arch>: a good build's signed provenance (docs/provenance.md),
// binaries/<arch>/provenance.dsse.json as committed with the build (a DSSE envelope of an in-toto
// statement, SLSA Provenance v1), served from the store's last commit. It never changes once
// committed: strong ETag (sha256 of the bytes), immutable caching. 404 not_found when there is none
// (no such submission or arch, not built yet, or built before provenance was recorded).
import { Hono } from 'hono';
import { MorphuxError } from '../../domain/errors.js';
import { PROVENANCE_FILE } from '../../domain/provenance-statement.js';
import type { AppContext } from '../../service/app-context.js';
import { bytesDigest, isArchName } from '../../store/layout/indexed-builds.js';
import { storePaths } from '../../store/layout/store-paths.js';
import { etagMatches } from '../etag.js';
import { parsePkgid } from './api-packages.js';

export function apiProvenance(ctx: AppContext): Hono {
  const app = new Hono();
  app.on(['GET', 'HEAD'], '/pkg/:pkgid/provenance/:arch', async (c) => {
    const pkgid = parsePkgid(c.req.param('pkgid'));
    const arch = c.req.param('arch');
    const none = () => new MorphuxError('not_found', `no provenance for pkgid ${pkgid}${isArchName(arch) ? ` (${arch})` : ''}`, { pkgid });
    if (!isArchName(arch)) throw none();
    const entry = (await ctx.committed.entries(storePaths.binaries(pkgid, arch as Parameters<typeof storePaths.binaries>[1])))
      .find((e) => e.name === PROVENANCE_FILE && e.type === 'blob');
    if (!entry) throw none();
    const obj = await ctx.committed.objects.read(entry.oid);
    if (obj?.type !== 'blob') throw none();
    const etag = `"${bytesDigest(obj.data).sha256}"`;
    const headers = { ETag: etag, 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' };
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
    if (c.req.method === 'HEAD') return c.body(null, 200, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(obj.data.length) });
    return c.body(new Uint8Array(obj.data), 200, { ...headers, 'Content-Type': 'application/json' });
  });
  return app;
}
