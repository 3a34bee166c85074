// Smart HTTP git hosting at /<name>.git over git's own git-http-backend (CGI). Access is decided
// here, on every request, before git runs: clone/fetch is anonymous, push needs HTTP Basic auth of
// someone who may push to the package. Push policy itself lives in the pre-receive hook endpoint.
// A shared BackendLimiter bounds the git-http-backend processes running at once (503 past its queue).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../lib/logger.js';
import { isPackageName } from '../domain/names.js';
import { repoExists } from '../repos/create-repo.js';
import { repoDir } from '../repos/repo-paths.js';
import { runGit } from '../lib/git.js';
import { AdvertCache } from './advert-cache.js';
import type { BackendLimiter } from './backend-limiter.js';
import { startBackend } from './backend-process.js';
import { parseCgiHead, relayCgiOutput } from './cgi-response.js';
import { isMorphuxError } from '../domain/errors.js';
import { errorBody, httpStatus, retryAfter } from './error-status.js';
import { UPLOAD_PACK_REQUEST_MAX, UPLOAD_PACK_REQUEST_TYPE, backendOntoSocket, readSmallBody } from './git-pack-handoff.js';

export interface GitHttpOptions {
  reposRoot: string;
  /** null for bad credentials; may throw rate_limited (a 429) when the address failed too often */
  authenticate(user: string, password: string, address: string | null): Promise<{ name: string } | null>;
  mayPush(user: { name: string }, repo: string): Promise<boolean>;
  /** MORPHUX_HOOK_URL, MORPHUX_HOOK_TOKEN, MORPHUX_HOOK_SCRIPT (the sh hook client), and MORPHUX_NODE, MORPHUX_NODE_FLAGS for older repos. */
  hookEnv: Record<string, string>;
  log: Logger;
  /** Largest request body (as sent, before gzip is undone); also receive.maxInputSize. Default 1 GiB. */
  maxBodyBytes?: number;
  /** Default: git-http-backend in `git --exec-path`. */
  backendPath?: string;
  /** Shared by every handler of a server (server.git_backends_max, git_queue_max); none: no limit. */
  limiter?: BackendLimiter;
}

export interface GitHttpHandler {
  matches(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

type Service = 'git-upload-pack' | 'git-receive-pack';
interface Route {
  name: string;
  pathInfo: string;
  query: string;
  service: Service | null;
}

const DEFAULT_MAX_BODY = 1024 * 1024 * 1024;
const REPO_PATH = /^\/([^/]+)\.git(\/.*)?$/;
const GIT_PROTOCOL = /^[A-Za-z0-9=:.,_-]{1,256}$/;
const LINGER_MS = 30_000;
const REALM = 'Basic realm="morphux"';
const RETRY_AFTER_S = 5;
const KEEP_MAX = 64 * 1024;

let execPath: Promise<string> | null = null;
function defaultBackend(): Promise<string> {
  execPath ??= runGit(['--exec-path']).then((r) => path.join(r.stdout.toString('utf8').trim(), 'git-http-backend'));
  return execPath;
}

/** The route of a request, or an HTTP status saying why there is none. */
function route(req: IncomingMessage): Route | number {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const m = REPO_PATH.exec(pathname);
  if (!m || !isPackageName(m[1])) return 404; // percent-encoding, "..", bad names: never decoded, never found
  const name = m[1];
  const sub = m[2] ?? '';
  const pathInfo = `/${name}.git${sub}`;
  const method = req.method ?? '';
  const allow = (methods: string[]) => methods.includes(method);
  if (sub === '/info/refs') {
    if (!allow(['GET'])) return 405;
    const service = params.get('service');
    if (service !== 'git-upload-pack' && service !== 'git-receive-pack') return 403; // smart HTTP only
    return { name, pathInfo, query: `service=${service}`, service };
  }
  if (sub === '/git-upload-pack' || sub === '/git-receive-pack') {
    if (!allow(['POST'])) return 405;
    return { name, pathInfo, query: '', service: sub.slice(1) as Service };
  }
  if (sub === '/HEAD') return allow(['GET']) ? { name, pathInfo, query: '', service: null } : 405;
  return 404;
}

/** The Git-Protocol header (e.g. `version=2`), if it is one git may be given. */
function gitProtocol(req: IncomingMessage): string | undefined {
  const p = req.headers['git-protocol'];
  return typeof p === 'string' && GIT_PROTOCOL.test(p) ? p : undefined;
}

function basicCredentials(req: IncomingMessage): [string, string] | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? null : [text.slice(0, colon), text.slice(colon + 1)];
}

function answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  res.end(`${message}\n`);
}

export function createGitHttpHandler(opts: GitHttpOptions): GitHttpHandler {
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const reposRoot = path.resolve(opts.reposRoot);
  const adverts = new AdvertCache();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = route(req);
    if (typeof r === 'number') {
      const text = r === 404 ? 'Not found' : r === 405 ? 'Method not allowed' : 'Only smart HTTP is served';
      return answer(res, r, text, r === 405 ? { allow: 'GET, POST' } : {});
    }
    if (!(await repoExists(reposRoot, r.name))) return answer(res, 404, 'Not found');
    let user: { name: string } | null = null;
    if (r.service === 'git-receive-pack') {
      const creds = basicCredentials(req);
      try {
        user = creds ? await opts.authenticate(creds[0], creds[1], req.socket.remoteAddress ?? null) : null;
      } catch (e) {
        if (!isMorphuxError(e, 'rate_limited')) throw e;
        return answer(res, 429, e.message, { 'retry-after': retryAfter(e.data) });
      }
      if (!user) return answer(res, 401, 'Authentication required: your user name and API token', { 'www-authenticate': REALM });
      if (!(await opts.mayPush(user, r.name))) return answer(res, 403, `${user.name} may not push to ${r.name}`);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) return answer(res, 413, `Request body over ${maxBody} bytes`, { connection: 'close' });
    if (r.service === 'git-upload-pack' && req.method === 'GET') return advertise(req, res, r);
    if (r.service !== 'git-upload-pack' || req.method !== 'POST') return runBackend(req, res, r, user);
    // a fetch: its pack goes from git straight to the socket (git-pack-handoff.ts), once all that
    // could make git answer anything but 200 has been ruled out here
    const type = req.headers['content-type'] ?? '';
    if (type !== UPLOAD_PACK_REQUEST_TYPE) {
      return answer(res, 415, `Expected POST with Content-Type '${UPLOAD_PACK_REQUEST_TYPE}', but received '${type}' instead.`);
    }
    const limit = Math.min(maxBody, UPLOAD_PACK_REQUEST_MAX);
    const body = await readSmallBody(req, limit);
    if (body === 'gone') return;
    if (body === 'too_large') return answer(res, 413, `Request body over ${limit} bytes`, { connection: 'close' });
    // again: a slow body may have taken long, and a repo gone by now would be a 404 inside a 200
    if (!(await repoExists(reposRoot, r.name))) return answer(res, 404, 'Not found');
    await runBackend(req, res, r, user, { body });
  }

  /** An upload-pack ref advertisement: under protocol v2, git's answer for the repo's config, kept
   *  (advert-cache.ts); otherwise (protocol v0 lists the refs) git's answer each time. */
  async function advertise(req: IncomingMessage, res: ServerResponse, r: Route): Promise<void> {
    const protocol = gitProtocol(req);
    if (!AdvertCache.wants(protocol)) return runBackend(req, res, r, null);
    const config = await readFile(path.join(repoDir(reposRoot, r.name), 'config')).catch(() => null);
    if (!config) return runBackend(req, res, r, null);
    const key = AdvertCache.key(protocol, config);
    const kept = adverts.get(key);
    if (kept) {
      res.writeHead(kept.status, [...kept.headers, ['Content-Length', String(kept.body.length)]]);
      res.end(kept.body);
      return;
    }
    await runBackend(req, res, r, null, {
      keep: (output) => {
        const head = parseCgiHead(output); // it was relayed, so it parses
        if (head) adverts.offer(key, { status: head.status, headers: head.headers, body: output.subarray(head.bodyStart) });
      },
    });
  }

  /** how.body: the whole request body, read already, for git to answer onto the socket; without
   *  it, git reads the request as it arrives and its answer is relayed. how.keep: given git's whole
   *  output (if small) once it has exited 0. */
  async function runBackend(
    req: IncomingMessage,
    res: ServerResponse,
    r: Route,
    user: { name: string } | null,
    how: { body?: Buffer; keep?: (output: Buffer) => void } = {},
  ): Promise<void> {
    const log = opts.log.child({ repo: r.name, git_service: r.service, user: user?.name });
    // the CGI and hook variables, on top of the clean environment lib/git gives every git
    const env: Record<string, string> = {
      ...opts.hookEnv,
      GIT_PROJECT_ROOT: reposRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      PATH_INFO: r.pathInfo,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: r.query,
      REMOTE_ADDR: req.socket.remoteAddress ?? '',
      // the repo's push size limit, as a config entry only for this run
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'receive.maxInputSize',
      GIT_CONFIG_VALUE_0: String(maxBody),
    };
    if (user) env.REMOTE_USER = user.name;
    const h = req.headers;
    if (h['content-type']) env.CONTENT_TYPE = h['content-type'];
    if (h['content-length'] && !h['transfer-encoding']) env.CONTENT_LENGTH = h['content-length'];
    if (typeof h['content-encoding'] === 'string') env.HTTP_CONTENT_ENCODING = h['content-encoding'];
    const protocol = gitProtocol(req);
    if (protocol) env.GIT_PROTOCOL = protocol;

    const backend = opts.backendPath ?? (await defaultBackend());
    if (req.socket.destroyed) return; // the client left while we were deciding
    let release: () => void = () => {};
    if (opts.limiter) {
      const left = new AbortController();
      const onClose = () => left.abort();
      res.once('close', onClose);
      const slot = await opts.limiter.acquire(left.signal);
      res.off('close', onClose);
      if (slot === 'gone') return;
      if (slot === 'full') {
        log.warn({ running: opts.limiter.active, queued: opts.limiter.queued }, 'git request turned away: too many git processes');
        res.writeHead(httpStatus('unavailable'), { 'content-type': 'application/json', 'cache-control': 'no-cache', 'retry-after': String(RETRY_AFTER_S) });
        res.end(JSON.stringify(errorBody('unavailable', `too many git requests at once; try again in ${RETRY_AFTER_S} s`)));
        return;
      }
      release = slot;
      if (req.socket.destroyed) return release();
    }
    try {
      if (how.body) await backendOntoSocket(req, backend, env, how.body, reposRoot, log);
      else await spawnBackend(req, res, backend, env, log, how.keep);
    } finally {
      release(); // at the program's exit, when its memory is back
    }
  }

  async function spawnBackend(
    req: IncomingMessage,
    res: ServerResponse,
    backend: string,
    env: Record<string, string>,
    log: Logger,
    keep?: (output: Buffer) => void,
  ): Promise<void> {
    const git = startBackend(backend, env, reposRoot, 'pipe', log);
    const { child, kill } = git;
    const stdout = child.stdout!;
    const relay = relayCgiOutput(stdout, res, (why) => {
      log.error({ why }, 'git-http-backend answered with malformed CGI');
      kill('malformed output');
      answer(res, 502, 'Bad gateway');
    });

    // the body, counted as it arrives; over the limit, the program is stopped
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBody) {
        req.removeAllListeners('data');
        req.resume();
        kill('body too large');
        if (!relay.committed) answer(res, 413, `Request body over ${maxBody} bytes`, { connection: 'close' });
        else res.destroy();
        return;
      }
      if (!child.stdin.write(chunk)) {
        req.pause();
        child.stdin.once('drain', () => req.resume());
      }
    });
    req.on('end', () => child.stdin.end());
    req.on('error', () => kill('request error'));
    res.on('error', () => kill('response error'));
    res.on('close', () => {
      if (!res.writableFinished) kill('client went away');
      else if (!req.complete) kill('answered before the body ended'); // the rest of the body is of no use
    });
    const copy: Buffer[] = [];
    let copied = 0;
    if (keep) {
      stdout.on('data', (c: Buffer) => {
        copied += c.length;
        if (copied <= KEEP_MAX) copy.push(c);
      });
    }
    let linger: NodeJS.Timeout | undefined;
    stdout.once('end', () => { linger = setTimeout(() => kill('still running after its answer'), LINGER_MS).unref(); });

    const ok = await git.finished();
    clearTimeout(linger); // its closure holds the request, the response and the child until it fires
    if (keep && ok && relay.committed && copied <= KEEP_MAX) keep(Buffer.concat(copy));
    if (!relay.committed && !res.headersSent && !res.writableEnded) answer(res, 502, 'Bad gateway');
  }

  return {
    matches(req) {
      return /^\/[^/?]*\.git(\/|\?|$)/.test(req.url ?? '');
    },
    handle(req, res) {
      req.on('error', () => {});
      res.on('error', () => {});
      serve(req, res).catch((e: unknown) => {
        opts.log.error({ err: e }, 'git http request failed');
        answer(res, 500, 'Internal error');
      });
    },
  };
}
