// Starts one Morphux server: a Node http server that hands *.git requests to the git transport,
// downloads it can answer at once to the fast path (fast-downloads.ts) and everything else to the
// Hono app; then reconciles the store (missed submissions, queued builds) and starts the embedded
// build worker, the publisher and the replicas' notifier.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import type { Principal } from '../domain/principal.js';
import { HOOK_API_PATH } from '../domain/hook-protocol.js';
import { mayPush } from '../service/may-push.js';
import type { AppContext } from '../service/app-context.js';
import { reconcile } from '../service/reconcile.js';
import { ReplicaNotifier } from '../service/replica-notifier.js';
import { IndexKeeper } from '../store/tree/index-keeper.js';
import { buildApp } from './app.js';
import { BackendLimiter } from './backend-limiter.js';
import { fastDownloads } from './fast-downloads.js';
import { createGitHttpHandler } from './git-http.js';
import { collectWhenQuiet } from './idle-gc.js';
import { closeHttp, hostUrl, httpServerOptions, listenHttp } from './listen-http.js';
import { PkgFileCache } from './pkg-file-cache.js';

export interface RunningServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** The hook client git's hooks run (src/hooks/hook-client.sh; the build copies it beside the .js). */
function hookClient(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'hooks', 'hook-client.sh');
}

export async function startServer(ctx: AppContext, listen: { host: string; port: number } = ctx.config.server): Promise<RunningServer> {
  const hookSecret = randomBytes(32).toString('hex');
  const storeReader = ctx.committed.objects; // /store is served from the last commit too
  const pkgFiles = new PkgFileCache(ctx.store);
  const app = buildApp(ctx, { hookSecret, storeReader, pkgFiles });
  const hookEnv: Record<string, string> = {
    MORPHUX_HOOK_TOKEN: hookSecret,
    MORPHUX_HOOK_SCRIPT: hookClient(),
    // repos made before the client was sh run `"$MORPHUX_NODE" $MORPHUX_NODE_FLAGS "$MORPHUX_HOOK_SCRIPT"`
    MORPHUX_NODE: '/bin/sh',
    MORPHUX_NODE_FLAGS: '',
  };
  const gitLog = ctx.log.child({ part: 'git' });
  const authenticate = async (user: string, token: string, address: string | null) => {
    const p = await ctx.users.authenticateBasic(user, token);
    if (!p) await ctx.throttle.take('auth_failure', { address }); // past the bucket: 429
    return p;
  };
  // one limit for both repos' handlers: it is the machine's memory that it protects
  const limiter = new BackendLimiter(ctx.config.server.git_backends_max, ctx.config.server.git_queue_max);
  const packages = createGitHttpHandler({
    reposRoot: ctx.layout.repos,
    authenticate,
    mayPush: (p, repo) => mayPush(ctx.owners, p as Principal, repo),
    hookEnv,
    log: gitLog,
    maxBodyBytes: ctx.config.server.push_limit_bytes,
    limiter,
  });
  const storeRepo = createGitHttpHandler({
    reposRoot: ctx.layout.data, // DATA/store.git (a link to DATA/store/.git) as BASE/store.git, read-only
    authenticate: async () => null,
    mayPush: async () => false,
    hookEnv: {},
    log: gitLog,
    limiter,
  });
  const honoListener = getRequestListener(app.fetch);
  const fast = fastDownloads(ctx, pkgFiles);
  const server = createServer(httpServerOptions(ctx.config.server), (req, res) => {
    if (/^\/store\.git(\/|\?|$)/.test(req.url ?? '')) return storeRepo.handle(req, res);
    if (packages.matches(req)) return packages.handle(req, res);
    fast(req, res).then(
      (answered) => { if (!answered) void honoListener(req, res); },
      () => { if (!res.headersSent) void honoListener(req, res); },
    );
  });
  const { port, url } = await listenHttp(server, listen);
  const stopGc = collectWhenQuiet(server, ctx.log.child({ part: 'gc' }));
  hookEnv.MORPHUX_HOOK_URL = `${url}${HOOK_API_PATH}`;
  if (ctx.config.server.public_url === null) ctx.publicUrl = hostUrl(listen.host, port);
  ctx.log.info({ url, data: ctx.layout.data }, 'morphux serving');

  await reconcile(ctx);
  await ctx.sessions.sweep();
  ctx.worker?.start();
  ctx.publisher.start((listener) => ctx.store.onCommit(listener));
  const storeIndex = new IndexKeeper(ctx.layout.store, ctx.log.child({ part: 'store-index' }));
  ctx.store.onCommit(() => storeIndex.poke());
  const notifier = new ReplicaNotifier({ urls: ctx.config.replica.notify, log: ctx.log.child({ part: 'replica-notify' }) });
  notifier.start((listener) => ctx.store.onCommit(listener));

  return {
    server,
    url,
    close: async () => {
      stopGc();
      await closeHttp(server);
      await notifier.close();
      await storeIndex.close();
      await ctx.close();
      storeReader.close();
    },
  };
}
