// A Morphux instance called in-process: opened as startTestServer opens one (test-server.ts), its
// Hono app (server/app.ts) built as start-server.ts builds it, and called with app.request():
// no socket, no port. For HTTP behaviour the app answers alone: /api/v1, /pkg and /port (their
// Hono routes: the served server's fast download path is not here), /store, the pages. Git's smart
// HTTP, the fast download path and what needs a real connection (raw bytes, slow drips, chunked
// floods, CLI processes, git pushes) stay on startTestServer. Nothing runs in the background: no
// worker, publisher, store index keeper or replica notifier, and no reconcile at start.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Hono } from 'hono';
import { buildApp } from '../../src/server/app.js';
import { PkgFileCache } from '../../src/server/pkg-file-cache.js';
import { apiVia, openTestInstance, type InstanceOptions, type Requester, type TestInstance } from './test-server.js';

/** The base URL an in-process instance answers with (ctx.publicUrl) and is called at. */
export const IN_PROCESS_URL = 'http://morphux.test';

export interface InProcess extends TestInstance {
  app: Hono;
}

export async function openInProcess(opts: Omit<InstanceOptions, 'worker'> = {}): Promise<InProcess> {
  const { data, config, ctx, adminToken } = await openTestInstance(opts);
  ctx.publicUrl = IN_PROCESS_URL;
  const app = buildApp(ctx, { hookSecret: randomBytes(32).toString('hex'), storeReader: ctx.committed.objects, pkgFiles: new PkgFileCache(ctx.store) });
  const request: Requester = async (p, init) => app.request(`${IN_PROCESS_URL}${p}`, init);
  return {
    url: IN_PROCESS_URL, data, ctx, config, adminToken, app, request,
    api: (method, p, body, token) => apiVia(request, method, p, body, token),
    close: async () => {
      await ctx.close();
      if (!opts.keep) await rm(data, { recursive: true, force: true });
    },
  };
}
