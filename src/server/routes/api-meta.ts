// The meta actions on a submission over the API (mpwa's flag_stable, submitreport, showreports,
// plus comments, tags and votes): POST|DELETE pkg/<pkgid>/flags/stable, GET|POST pkg/<pkgid>/reports
// and comments, PUT|DELETE pkg/<pkgid>/tags/<tag>, PUT|DELETE pkg/<pkgid>/vote. Each write is a use
// case of service/meta/, which decides who may and checks the input; this file only maps HTTP to it.
import { Hono, type Context } from 'hono';
import { MorphuxError } from '../../domain/errors.js';
import { readNumbered } from '../../store/tree/committed-tree.js';
import { storePaths } from '../../store/layout/store-paths.js';
import type { BuildReport, CommentDoc, SubmissionInfo } from '../../domain/submission.js';
import type { AppContext } from '../../service/app-context.js';
import { addComment } from '../../service/meta/add-comment.js';
import { addReport } from '../../service/meta/add-report.js';
import { addTag, removeTag } from '../../service/meta/set-tag.js';
import { setStable } from '../../service/meta/set-stable.js';
import { setVote } from '../../service/meta/set-vote.js';
import { apiAct } from '../api-act.js';
import { paged } from '../paging.js';
import { parsePkgid } from './api-packages.js';

export function apiMeta(ctx: AppContext): Hono {
  const app = new Hono();
  const pkgid = (c: Context) => c.req.param('pkgid');

  /** The submission a read is about (404 when there is none). */
  const submissionOf = async (c: Context): Promise<SubmissionInfo> => {
    const id = parsePkgid(pkgid(c) ?? '');
    const info = await ctx.store.readJson<SubmissionInfo>(storePaths.submissionInfo(id));
    if (!info) throw new MorphuxError('not_found', `no submission with pkgid ${id}`, { pkgid: id });
    return info;
  };

  for (const [method, on] of [['POST', true], ['DELETE', false]] as const) {
    app.on(method, '/pkg/:pkgid/flags/stable', async (c) => c.json(await apiAct(ctx, c, setStable, { pkgid: pkgid(c), on }, 'none')));
  }

  app.get('/pkg/:pkgid/reports', async (c) => {
    const info = await submissionOf(c);
    return c.json(paged(c, await readNumbered<BuildReport>(ctx.committed, storePaths.reports(info.pkgid))));
  });
  app.post('/pkg/:pkgid/reports', async (c) => c.json(await apiAct(ctx, c, addReport, { pkgid: pkgid(c) }), 201));

  app.get('/pkg/:pkgid/comments', async (c) => {
    const info = await submissionOf(c);
    return c.json(paged(c, await readNumbered<CommentDoc>(ctx.committed, storePaths.comments(info.pkgid))));
  });
  app.post('/pkg/:pkgid/comments', async (c) => c.json(await apiAct(ctx, c, addComment, { pkgid: pkgid(c) }), 201));

  app.put('/pkg/:pkgid/tags/:tag', async (c) => c.json(await apiAct(ctx, c, addTag, { pkgid: pkgid(c), tag: c.req.param('tag') }, 'none')));
  app.delete('/pkg/:pkgid/tags/:tag', async (c) => c.json(await apiAct(ctx, c, removeTag, { pkgid: pkgid(c), tag: c.req.param('tag') }, 'none')));

  for (const [method, on] of [['PUT', true], ['DELETE', false]] as const) {
    app.on(method, '/pkg/:pkgid/vote', async (c) => c.json(await apiAct(ctx, c, setVote, { pkgid: pkgid(c), on }, 'none')));
  }
  return app;
}
