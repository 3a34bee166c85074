// The HTTP application (Hono): /api/v1, /pkg and /port, /store, the internal hook endpoint and
// the web pages, with one error handler. Git's smart HTTP is not here: start-server.ts hands
// *.git requests to the git transport before Hono sees them.
import { Hono } from 'hono';
import { HOOK_API_PATH } from '../domain/hook-protocol.js';
import { WORKER_API_PATH } from '../domain/worker-protocol.js';
import type { AppContext } from '../service/app-context.js';
import type { GitObjectReader } from '../store/tree/git-object-reader.js';
import { errorBody, errorResponse } from './error-status.js';
import { apiAccounts } from './routes/api-accounts.js';
import { apiInstall } from './routes/api-install.js';
import { apiMeta } from './routes/api-meta.js';
import { apiPackages } from './routes/api-packages.js';
import { apiProvenance } from './routes/api-provenance.js';
import { apiSubmit } from './routes/api-submit.js';
import { etag } from './etag.js';
import { downloads } from './routes/downloads.js';
import type { PkgFileCache } from './pkg-file-cache.js';
import { hookApi } from './routes/hook-api.js';
import { storeFiles } from './routes/store-files.js';
import { webPages } from './routes/web-pages.js';
import { webActions } from './routes/web-actions.js';
import { webSession } from './routes/web-session.js';
import { workerApi } from './routes/worker-api.js';

export interface AppOptions {
  hookSecret: string;
  storeReader: GitObjectReader;
  /** shared with the server's fast path for downloads (fast-downloads.ts) */
  pkgFiles?: PkgFileCache;
}

export function buildApp(ctx: AppContext, opts: AppOptions): Hono {
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err, ctx.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.use('/api/v1/*', etag());
  app.get('/', etag());
  app.route('/api/v1', apiAccounts(ctx));
  app.route('/api/v1', apiPackages(ctx));
  app.route('/api/v1', apiMeta(ctx));
  app.route('/api/v1', apiSubmit(ctx));
  app.route('/api/v1', apiProvenance(ctx)); // GET /api/v1/pkg/<pkgid>/provenance/<arch>
  app.route('/', apiInstall(ctx)); // GET /api/v1/install and /pkg/<pkgid>/binaries/<arch>[/manifest]
  app.route(HOOK_API_PATH, hookApi(ctx, opts.hookSecret));
  app.route(WORKER_API_PATH, workerApi(ctx));
  app.route('/store', storeFiles(ctx, opts.storeReader));
  app.route('/', downloads(ctx, opts.pkgFiles));
  app.route('/', webSession(ctx));
  app.route('/', webActions(ctx));
  app.route('/', webPages(ctx));
  return app;
}
