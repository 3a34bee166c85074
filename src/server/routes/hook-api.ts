// The internal endpoint the git hooks call (/internal/hooks/pre-receive|post-receive), protected
// by a per-process secret that only the git processes this server starts receive.
import { Hono } from 'hono';
import { z } from 'zod';
import { timingSafeEqual } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { repoDir } from '../../repos/repo-paths.js';
import { MorphuxError } from '../../domain/errors.js';
import { isPackageName } from '../../domain/names.js';
import type { AppContext } from '../../service/app-context.js';
import { postReceive, preReceive, type HookRequest } from '../../service/handle-push.js';
import { requestLimits } from '../../service/request-limits.js';
import { readJsonBody } from '../read-json-body.js';

const oid = z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/);
const hookBody = z.object({
  hook: z.string().optional(),
  repo: z.string().refine(isPackageName),
  pusher: z.string().max(64).default(''),
  updates: z.array(z.object({ old: oid, new: oid, ref: z.string().min(1).max(1024) })).max(10_000),
  quarantine: z.object({
    GIT_OBJECT_DIRECTORY: z.string().optional(),
    GIT_ALTERNATE_OBJECT_DIRECTORIES: z.string().optional(),
    GIT_QUARANTINE_PATH: z.string().optional(),
  }).partial().nullable().optional(),
});

export function hookApi(ctx: AppContext, secret: string): Hono {
  const app = new Hono();
  app.post('/:hook', async (c) => {
    const given = Buffer.from(/^Bearer\s+(\S+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '');
    const want = Buffer.from(secret);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new MorphuxError('forbidden', 'not a hook of this server');
    const parsed = hookBody.safeParse(await readJsonBody(c, requestLimits(ctx.config).hookRequest));
    if (!parsed.success) throw new MorphuxError('bad_request', `bad hook request: ${parsed.error.issues[0].message}`);
    const req = parsed.data as HookRequest;
    // the quarantine must be inside the repo the hook runs for
    const dir = repoDir(ctx.layout.repos, req.repo);
    if (!existsSync(dir)) throw new MorphuxError('not_found', `no repo ${req.repo}`);
    const roots = [dir + '/', realpathSync(dir) + '/'];
    for (const v of Object.values(req.quarantine ?? {})) {
      for (const p of String(v).split(':')) {
        if (p && !roots.some((r) => p.startsWith(r))) throw new MorphuxError('forbidden', 'quarantine outside the repo');
      }
    }
    switch (c.req.param('hook')) {
      case 'pre-receive': return c.json(await preReceive(ctx, req));
      case 'post-receive': return c.json(await postReceive(ctx, req));
      default: throw new MorphuxError('not_found', 'no such hook');
    }
  });
  return app;
}
