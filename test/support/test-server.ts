// A real Morphux server for end-to-end tests: a fresh data dir, an admin, listening on a free
// loopback port, with or without the embedded VM worker. close() stops it and removes the dir.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runnerFor } from '../../src/main/morphux-commands.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load-config.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { type AppContext } from '../../src/service/app-context.js';
import { openContext } from '../../src/main/open-instance.js';

export interface TestServer {
  url: string;
  data: string;
  ctx: AppContext;
  config: LoadedConfig;
  adminToken: string;
  running: RunningServer;
  close(): Promise<void>;
}

/** throttle: keep the configured throttling (tests are scripts: off unless a test is about it) */
export async function startTestServer(opts: { worker?: boolean; data?: string; keep?: boolean; throttle?: boolean } = {}): Promise<TestServer> {
  const data = opts.data ?? (await mkdtemp(path.join(os.tmpdir(), 'morphux-test-')));
  const config = loadConfig({ data, host: '127.0.0.1', port: 0 });
  if (!opts.throttle) config.throttle.enabled = false;
  const log = process.env.MORPHUX_TEST_LOG ? createLogger(process.env.MORPHUX_TEST_LOG) : silentLogger;
  const ctx = await openContext(config, log, { runner: opts.worker ? runnerFor(config, log) : undefined });
  const { token } = await ctx.users.create(`admin${Math.random().toString(36).slice(2, 8)}`, true);
  const running = await startServer(ctx, { host: '127.0.0.1', port: 0 });
  return {
    url: running.url, data, ctx, config, adminToken: token, running,
    close: async () => {
      await running.close();
      if (!opts.keep) await rm(data, { recursive: true, force: true });
    },
  };
}

/** JSON API call: status, parsed body (or null) and headers. */
export async function api(base: string, method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; json: any; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${p}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), redirect: 'manual' });
  const text = await res.text();
  let json: any = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, headers: res.headers };
}

export async function newUser(s: TestServer, name: string, admin = false): Promise<string> {
  const r = await api(s.url, 'POST', '/api/v1/users', { name, admin }, s.adminToken);
  if (r.status !== 201) throw new Error(`POST /api/v1/users ${name}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.token as string;
}

/** Polls GET /api/v1/pkg/N until its state is good or failed. */
export async function waitState(base: string, pkgid: number, timeoutMs: number): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await api(base, 'GET', `/api/v1/pkg/${pkgid}`);
    const st = r.json?.status?.state;
    if (st === 'good' || st === 'failed') return r.json;
    if (Date.now() > until) throw new Error(`pkg ${pkgid} still ${st} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}
