// A Morphux instance for tests: a fresh data dir (or the one given), an admin, throttling off
// unless asked. startTestServer serves it on a free loopback port, with or without the embedded VM
// worker; in-process.ts calls its Hono app without a socket. Both are a TestInstance: what the
// helpers here and in portpkgs.ts take. close() stops it and removes the dir.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runnerFor } from '../../src/main/morphux-commands.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load-config.js';
import { createLogger, silentLogger } from '../../src/lib/logger.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { type AppContext } from '../../src/service/app-context.js';
import { openContext } from '../../src/main/open-instance.js';

/** What a JSON API call gives: status, parsed body (or null) and headers. */
export interface ApiAnswer {
  status: number;
  json: any;
  headers: Headers;
}

/** A request to a path of an instance (`/api/v1/…`); redirects are never followed. */
export type Requester = (p: string, init?: RequestInit) => Promise<Response>;

/** An instance under test, however it is reached. */
export interface TestInstance {
  /** its base URL: the server's, or in-process.ts's fixed one (what answers name) */
  url: string;
  data: string;
  ctx: AppContext;
  config: LoadedConfig;
  adminToken: string;
  request: Requester;
  /** a JSON API call, as api() below */
  api(method: string, p: string, body?: unknown, token?: string): Promise<ApiAnswer>;
  close(): Promise<void>;
}

export interface TestServer extends TestInstance {
  running: RunningServer;
}

export interface InstanceOptions {
  worker?: boolean;
  data?: string;
  /** keep the data dir at close */
  keep?: boolean;
  /** keep the configured throttling (tests are scripts: off unless a test is about it) */
  throttle?: boolean;
  /** builder.rebuild.when: none unless a test is about the rebuild check (a check doubles a build's VM time) */
  rebuild?: 'every' | 'sample' | 'none';
}

/** Opens an instance as `morphux serve` does (openContext), with a new admin; nothing listens. */
export async function openTestInstance(opts: InstanceOptions, listen: { host: string; port: number } = { host: '127.0.0.1', port: 0 }): Promise<{ data: string; config: LoadedConfig; ctx: AppContext; adminToken: string }> {
  const data = opts.data ?? (await mkdtemp(path.join(os.tmpdir(), 'morphux-test-')));
  const config = loadConfig({ data, ...listen }, { ...process.env, MORPHUX_REBUILD: opts.rebuild ?? 'none' });
  if (!opts.throttle) config.throttle.enabled = false;
  const log = process.env.MORPHUX_TEST_LOG ? createLogger(process.env.MORPHUX_TEST_LOG) : silentLogger;
  const ctx = await openContext(config, log, { runner: opts.worker ? runnerFor(config, log) : undefined });
  const { token } = await ctx.users.create(`admin${Math.random().toString(36).slice(2, 8)}`, true);
  return { data, config, ctx, adminToken: token };
}

export async function startTestServer(opts: InstanceOptions = {}): Promise<TestServer> {
  const { data, config, ctx, adminToken } = await openTestInstance(opts);
  const running = await startServer(ctx, { host: '127.0.0.1', port: 0 });
  const request: Requester = (p, init) => fetch(`${running.url}${p}`, { redirect: 'manual', ...init });
  return {
    url: running.url, data, ctx, config, adminToken, running, request,
    api: (method, p, body, token) => apiVia(request, method, p, body, token),
    close: async () => {
      await running.close();
      if (!opts.keep) await rm(data, { recursive: true, force: true });
    },
  };
}

/** JSON API call to a server at `base`: status, parsed body (or null) and headers. */
export async function api(base: string, method: string, p: string, body?: unknown, token?: string): Promise<ApiAnswer> {
  return apiVia((q, init) => fetch(`${base}${q}`, { redirect: 'manual', ...init }), method, p, body, token);
}

/** The same call through any Requester (a TestInstance's `request`). */
export async function apiVia(request: Requester, method: string, p: string, body?: unknown, token?: string): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(p, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, headers: res.headers };
}

export async function newUser(s: Pick<TestInstance, 'api' | 'adminToken'>, name: string, admin = false): Promise<string> {
  const r = await s.api('POST', '/api/v1/users', { name, admin }, s.adminToken);
  if (r.status !== 201) throw new Error(`POST /api/v1/users ${name}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.token as string;
}

/** Where a query URL (/port/…) sends: the 301's Location, or the status when it is no 301. */
export async function redirectOf(s: Pick<TestInstance, 'request'>, p: string): Promise<string | number | null> {
  const r = await s.request(p);
  return r.status === 301 ? r.headers.get('location') : r.status;
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
