// POST /api/v1/submit: a portpkg .tgz as the request body (any registered user), checked like a
// push and submitted on the same path (source: upload). The file name, if any, comes from
// ?filename= or Content-Disposition. Answers 201 {pkgid, pkgurl, submission}.
import { Hono } from 'hono';
import { MorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { pkgurl } from '../../service/submit-portpkg.js';
import { uploadPortpkg } from '../../service/upload-portpkg.js';
import { requireUser } from '../auth.js';
import { readBody } from '../read-body.js';

const FILENAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

function filenameOf(query: string | undefined, disposition: string | undefined): string | null {
  const given = query ?? /filename="?([^";]+)"?/.exec(disposition ?? '')?.[1];
  if (given === undefined) return null;
  if (!FILENAME.test(given)) throw new MorphuxError('bad_request', 'filename must be a plain file name such as hello-1.0.tgz');
  return given;
}

export function apiSubmit(ctx: AppContext): Hono {
  const app = new Hono();
  app.post('/submit', async (c) => {
    const p = await requireUser(ctx, c);
    const filename = filenameOf(c.req.query('filename'), c.req.header('content-disposition'));
    const tgz = await readBody(c, ctx.config.server.body_limit_bytes);
    if (tgz.length === 0) throw new MorphuxError('bad_request', 'the body must be a portpkg .tgz');
    const info = await uploadPortpkg(ctx, tgz, p.name, filename);
    return c.json({ pkgid: info.pkgid, pkgurl: pkgurl(ctx, info.pkgid), submission: info }, 201);
  });
  return app;
}
