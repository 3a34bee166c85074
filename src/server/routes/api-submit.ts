// POST /api/v1/submit: a portpkg .tgz as the request body, the use case service/upload-portpkg.ts
// (any registered user; checked like a push, then the same submission path, source: upload). The
// file name, if any, comes from ?filename= or Content-Disposition. Answers 201 {pkgid, pkgurl, submission}.
import { Hono } from 'hono';
import type { AppContext } from '../../service/app-context.js';
import { perform } from '../../service/perform.js';
import { pkgurl } from '../../service/submit-portpkg.js';
import { uploadSubmission } from '../../service/upload-portpkg.js';
import { apiCaller } from '../auth.js';
import { readBody } from '../read-body.js';

export function apiSubmit(ctx: AppContext): Hono {
  const app = new Hono();
  app.post('/submit', async (c) => {
    const filename = c.req.query('filename') ?? /filename="?([^";]+)"?/.exec(c.req.header('content-disposition') ?? '')?.[1] ?? null;
    const read = async () => ({ tgz: await readBody(c, uploadSubmission.bodyLimit(ctx.config)), filename });
    const info = await perform(ctx, await apiCaller(ctx, c), uploadSubmission, read);
    return c.json({ pkgid: info.pkgid, pkgurl: pkgurl(ctx, info.pkgid), submission: info }, 201);
  });
  return app;
}
