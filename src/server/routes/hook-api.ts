// The internal endpoint the git hooks call (/internal/hooks/pre-receive|post-receive), protected
// by a per-process secret that only the git processes this server starts receive. The wire
// (domain/hook-protocol.ts): git's stdin as the body, the repo, pusher and quarantine as headers;
// the messages as plain text, 200 or 409 (a pre-receive refusing).
import { Hono } from 'hono';
import { timingSafeEqual } from 'node:crypto';
import { MorphuxError } from '../../domain/errors.js';
import { hookReplyToWire, hookRequestFromWire, isHookName } from '../../domain/hook-protocol.js';
import { decodeUtf8 } from '../../domain/untrusted-text.js';
import type { AppContext } from '../../service/app-context.js';
import { checkHookRequest, postReceive, preReceive } from '../../service/handle-push.js';
import { requestLimits } from '../../service/request-limits.js';
import { readBody } from '../read-body.js';

export function hookApi(ctx: AppContext, secret: string): Hono {
  const app = new Hono();
  app.post('/:hook', async (c) => {
    const given = Buffer.from(/^Bearer\s+(\S+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '');
    const want = Buffer.from(secret);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new MorphuxError('forbidden', 'not a hook of this server');
    const hook = c.req.param('hook');
    if (!isHookName(hook)) throw new MorphuxError('not_found', 'no such hook');
    const body = decodeUtf8(await readBody(c, requestLimits(ctx.config).hookRequest), 'bad_request', 'the body');
    const req = hookRequestFromWire(hook, (h) => c.req.header(h), body);
    checkHookRequest(ctx, req);
    const t0 = performance.now();
    const reply = await (hook === 'pre-receive' ? preReceive : postReceive)(ctx, req);
    ctx.log.info({ hook, repo: req.repo, ms: Math.round(performance.now() - t0) }, 'hook answered');
    const wire = hookReplyToWire(hook, reply);
    return c.text(wire.text, wire.status);
  });
  return app;
}
