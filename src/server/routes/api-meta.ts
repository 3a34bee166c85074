// The meta actions on a submission (mpwa's flag_stable, submitreport, showreports, plus comments,
// tags and votes): POST|DELETE pkg/<pkgid>/flags/stable, GET|POST pkg/<pkgid>/reports and
// comments, PUT|DELETE pkg/<pkgid>/tags/<tag>, PUT|DELETE pkg/<pkgid>/vote. Who may do what is
// decided here; each change is one store commit authored by the caller.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { ARCHES } from '../../config/config-schema.js';
import { MorphuxError } from '../../domain/errors.js';
import { checkTag } from '../../domain/names.js';
import { hasControlChars } from '../../domain/untrusted-text.js';
import { addComment } from '../../store/add-comment.js';
import { readNumbered } from '../../store/committed-tree.js';
import { addUserReport } from '../../store/add-user-report.js';
import type { TagsDoc } from '../../store/read-submission.js';
import { setStableFlag } from '../../store/set-stable-flag.js';
import { setTag } from '../../store/set-tag.js';
import { setVote } from '../../store/set-vote.js';
import { storePaths } from '../../store/store-paths.js';
import type { BuildReport, CommentDoc, SubmissionInfo } from '../../store/submission-types.js';
import type { AppContext } from '../../service/app-context.js';
import { requireMaintainer, requireUser } from '../auth.js';
import { paged } from '../paging.js';
import { readJsonBody } from '../read-json-body.js';
import { parsePkgid } from './api-packages.js';

const MAX_COMMENT_CHARS = 16 * 1024;

const reportBody = z.object({
  status: z.enum(['ok', 'failed']),
  arch: z.enum(ARCHES),
  message: z.string().max(4096).refine((s) => !hasControlChars(s), 'holds a control character').nullable().optional(),
  log: z.string().nullable().optional(),
}).strict();
const commentBody = z.object({
  text: z.string().trim().min(1).max(MAX_COMMENT_CHARS).refine((s) => !hasControlChars(s), 'holds a control character (only tab and newline are allowed)'),
}).strict();

function parsed<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MorphuxError('bad_request', `${issue.path.join('.') || 'body'}: ${issue.message}`, { path: issue.path.map(String) });
  }
  return r.data;
}

export function apiMeta(ctx: AppContext): Hono {
  const app = new Hono();
  const jsonLimit = Math.min(ctx.config.server.body_limit_bytes, 64 * 1024);

  /** The submission a request is about (404 when there is none). */
  const submissionOf = async (c: Context): Promise<SubmissionInfo> => {
    const pkgid = parsePkgid(c.req.param('pkgid') ?? '');
    const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(pkgid));
    if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${pkgid}`, { pkgid });
    return info;
  };

  for (const [method, on] of [['POST', true], ['DELETE', false]] as const) {
    app.on(method, '/pkg/:pkgid/flags/stable', async (c) => {
      await requireUser(ctx, c);
      const info = await submissionOf(c);
      const p = await requireMaintainer(ctx, c, info.name);
      const flags = await setStableFlag(ctx.store, info.pkgid, p.name, on);
      return c.json({ pkgid: info.pkgid, flags });
    });
  }

  app.get('/pkg/:pkgid/reports', async (c) => {
    const info = await submissionOf(c);
    return c.json(paged(c, await readNumbered<BuildReport>(ctx.committed, storePaths.reports(info.pkgid))));
  });

  app.post('/pkg/:pkgid/reports', async (c) => {
    const p = await requireUser(ctx, c);
    const info = await submissionOf(c);
    const body = parsed(reportBody, await readJsonBody(c, ctx.config.server.body_limit_bytes));
    if (body.log && Buffer.byteLength(body.log) > ctx.config.builder.log_max_bytes) {
      throw new MorphuxError('too_large', `the log is over ${ctx.config.builder.log_max_bytes} bytes`);
    }
    const report = await addUserReport(ctx.store, info.pkgid, p.name, { status: body.status, arch: body.arch, message: body.message ?? null, log: body.log ?? null });
    return c.json(report, 201);
  });

  app.get('/pkg/:pkgid/comments', async (c) => {
    const info = await submissionOf(c);
    return c.json(paged(c, await readNumbered<CommentDoc>(ctx.committed, storePaths.comments(info.pkgid))));
  });

  app.post('/pkg/:pkgid/comments', async (c) => {
    const p = await requireUser(ctx, c);
    const info = await submissionOf(c);
    const body = parsed(commentBody, await readJsonBody(c, jsonLimit));
    return c.json(await addComment(ctx.store, info.pkgid, p.name, body.text), 201);
  });

  app.put('/pkg/:pkgid/tags/:tag', async (c) => {
    const p = await requireUser(ctx, c);
    const info = await submissionOf(c);
    const tag = checkTag(c.req.param('tag'));
    const doc = await setTag(ctx.store, info.pkgid, p.name, tag, true);
    return c.json({ pkgid: info.pkgid, tags: doc.tags.map((t) => t.tag) });
  });

  app.delete('/pkg/:pkgid/tags/:tag', async (c) => {
    const p = await requireUser(ctx, c);
    const info = await submissionOf(c);
    const tag = checkTag(c.req.param('tag'));
    // the user who added a tag, a maintainer or an admin may remove it
    const current = (await ctx.store.readJson<TagsDoc>(storePaths.tags(info.pkgid)))?.tags.find((t) => t.tag === tag);
    if (current && current.by !== p.name) await requireMaintainer(ctx, c, info.name);
    const doc = await setTag(ctx.store, info.pkgid, p.name, tag, false);
    return c.json({ pkgid: info.pkgid, tags: doc.tags.map((t) => t.tag) });
  });

  for (const [method, on] of [['PUT', true], ['DELETE', false]] as const) {
    app.on(method, '/pkg/:pkgid/vote', async (c) => {
      const p = await requireUser(ctx, c);
      const info = await submissionOf(c);
      const doc = await setVote(ctx.store, info.pkgid, p.name, on);
      return c.json({ pkgid: info.pkgid, votes: doc.voters.length, voted: doc.voters.some((v) => v.user === p.name) });
    });
  }

  return app;
}
