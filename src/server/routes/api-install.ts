// Installing (docs/install-plan.md): GET /api/v1/install, the install plan (service/install-plan.ts;
// the API's etag middleware gives it its strong ETag), and the bytes it points at:
// GET /pkg/<pkgid>/binaries/<arch> (the binaries archive) and …/manifest (its manifest.json),
// served from the store's last commit (committed-tree.ts), never from files being written. Both
// never change once committed: strong ETag = the sha256 of the bytes (the plan's), immutable
// caching. fast-downloads.ts answers /pkg/<pkgid> alone, so these paths come here.
import { Hono, type Context } from 'hono';
import { MorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { installPlan, planSource } from '../../service/install-plan.js';
import { bytesDigest, isArchName } from '../../store/layout/indexed-builds.js';
import { storePaths } from '../../store/layout/store-paths.js';
import { etagMatches } from '../etag.js';
import { parsePkgid } from './api-packages.js';

/** blob ids whose sha256 is known: a 304 costs one tree read, no blob read */
const REMEMBERED = 10_000;

export function apiInstall(ctx: AppContext): Hono {
  const app = new Hono();
  const source = planSource(ctx);

  app.get('/api/v1/install', async (c) => {
    const plan = await installPlan(source, {
      pkg: c.req.queries('pkg') ?? [],
      arch: c.req.query('arch'),
      installed: c.req.queries('installed'),
    }, { publicUrl: ctx.publicUrl, arches: ctx.config.builder.arches, alsoBase: [new URL(c.req.url).origin] });
    return c.json(plan);
  });

  const digests = new Map<string, string>();
  const serve = async (c: Context, file: 'files.tar.gz' | 'manifest.json', type: string) => {
    const pkgid = parsePkgid(c.req.param('pkgid') ?? '');
    const arch = c.req.param('arch') ?? '';
    const none = () => new MorphuxError('not_found', `no ${isArchName(arch) ? arch : 'such'} binaries for pkgid ${pkgid}`, { pkgid });
    if (!isArchName(arch)) throw none();
    const entry = (await ctx.committed.entries(storePaths.binaries(pkgid, arch as Parameters<typeof storePaths.binaries>[1])))
      .find((e) => e.name === file && e.type === 'blob');
    if (!entry) throw none();
    const cache = { 'Cache-Control': 'public, max-age=31536000, immutable' };
    let sha = digests.get(entry.oid);
    if (sha && etagMatches(c.req.header('if-none-match'), `"${sha}"`)) return c.body(null, 304, { ETag: `"${sha}"`, ...cache });
    const obj = await ctx.committed.objects.read(entry.oid);
    if (obj?.type !== 'blob') throw none();
    if (!sha) {
      sha = bytesDigest(obj.data).sha256;
      if (digests.size >= REMEMBERED) digests.delete(digests.keys().next().value!);
      digests.set(entry.oid, sha);
    }
    const etag = `"${sha}"`;
    if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, { ETag: etag, ...cache });
    const headers = { 'Content-Type': type, 'Content-Length': String(obj.data.length), ETag: etag, 'X-Content-Type-Options': 'nosniff', ...cache };
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    return c.body(new Uint8Array(obj.data), 200, headers);
  };
  app.on(['GET', 'HEAD'], '/pkg/:pkgid/binaries/:arch', (c) => serve(c, 'files.tar.gz', 'application/gzip'));
  app.on(['GET', 'HEAD'], '/pkg/:pkgid/binaries/:arch/manifest', (c) => serve(c, 'manifest.json', 'application/json'));

  return app;
}
