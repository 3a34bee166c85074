// A read replica's HTTP server: the same read routes as the primary (/store, /pkg, /port and the
// read API under /api/v1) over the replica's clone of the store, BASE/store.git read-only (so
// replicas can chain), and POST /internal/replica/notify, which fetches the store at once (at most
// once a second).
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import type { AppContext } from '../service/app-context.js';
import type { ReplicaSync } from '../service/replica-sync.js';
import { errorBody, errorResponse } from './error-status.js';
import { etag } from './etag.js';
import { createGitHttpHandler } from './git-http.js';
import { apiPackages } from './routes/api-packages.js';
import { downloads } from './routes/downloads.js';
import { storeFiles } from './routes/store-files.js';
import { closeHttp, httpServerOptions, listenHttp } from './listen-http.js';

export interface RunningReplica {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function startReplica(ctx: AppContext, sync: ReplicaSync, listen: { host: string; port: number }): Promise<RunningReplica> {
  const storeReader = ctx.committed.objects;
  const app = new Hono();
  app.onError((err, c) => errorResponse(c, err, ctx.log));
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path} on a read replica`), 404));
  app.use('/api/v1/*', etag());
  app.route('/api/v1', apiPackages(ctx));
  app.route('/store', storeFiles(ctx, storeReader));
  app.route('/', downloads(ctx));
  // no token: a notification only makes the replica fetch public data sooner, and sync.notify()
  // rate-limits it (a flood costs at most one fetch a second)
  app.post('/internal/replica/notify', async (c) => {
    await sync.notify();
    return c.json({ head: sync.head });
  });
  app.get('/internal/replica/status', (c) => c.json({ head: sync.head, synced_at: new Date(sync.syncedAt).toISOString(), fetches: sync.fetches }));
  const storeRepo = createGitHttpHandler({
    reposRoot: ctx.layout.data, authenticate: async () => null, mayPush: async () => false, hookEnv: {}, log: ctx.log.child({ part: 'git' }),
  });
  const honoListener = getRequestListener(app.fetch);
  const server = createServer(httpServerOptions(ctx.config.server), (req, res) => {
    if (/^\/store\.git(\/|\?|$)/.test(req.url ?? '')) return storeRepo.handle(req, res);
    void honoListener(req, res);
  });
  const { url } = await listenHttp(server, listen);
  // clone URLs and pkgurls name the primary: package repos live there, and it is the canonical address
  ctx.publicUrl = ctx.config.server.public_url ?? ctx.config.replica.upstream ?? url;
  sync.start();
  ctx.log.info({ url, upstream: ctx.config.replica.upstream }, 'morphux replica serving');
  return {
    server,
    url,
    close: async () => {
      sync.close();
      await closeHttp(server);
      await ctx.close();
      storeReader.close();
    },
  };
}
