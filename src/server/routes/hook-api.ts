// The internal endpoint the git hooks call (/internal/hooks/pre-receive|post-receive), protected
// by a per-process secret that only the git processes this server starts receive.
import { Hono } from 'hono';
import { timingSafeEqual } from 'node:crypto';
import { MorphuxError } from '../../domain/errors.js';
import { isHookName, parseHookRequest } from '../../domain/hook-protocol.js';
import type { AppContext } from '../../service/app-context.js';
import { checkHookRequest, postReceive, preReceive } from '../../service/handle-push.js';
import { requestLimits } from '../../service/request-limits.js';
import { readJsonBody } from '../read-json-body.js';

export function hookApi(ctx: AppContext, secret: string): Hono {
  const app = new Hono();
  app.post('/:hook', async (c) => {
    const given = Buffer.from(/^Bearer\s+(\S+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '');
    const want = Buffer.from(secret);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new MorphuxError('forbidden', 'not a hook of this server');
    const hook = c.req.param('hook');
    if (!isHookName(hook)) throw new MorphuxError('not_found', 'no such hook');
    const req = await parseHookRequest(await readJsonBody(c, requestLimits(ctx.config).hookRequest));
    checkHookRequest(ctx, req);
    const t0 = performance.now();
    const reply = await (hook === 'pre-receive' ? preReceive : postReceive)(ctx, req);
    ctx.log.info({ hook, repo: req.repo, ms: Math.round(performance.now() - t0) }, 'hook answered');
    return c.json(reply);
  });
  return app;
}
