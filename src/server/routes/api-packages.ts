// Read API over the store: /api/v1/ports (search, filter, sort, pages), /api/v1/ports/<name>,
// /api/v1/pkg/<pkgid> and its build log (followed live while it builds).
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { MorphuxError } from '../../domain/errors.js';
import { readPortIndex } from '../../store/layout/port-index.js';
import { roleOf } from '../../domain/submission.js';
import { queryPorts } from '../../service/query-ports.js';
import { pagedJson, pageWindow } from '../paging.js';
import { readSubmission } from '../../store/layout/read-submission.js';
import { numberedJson, type CommittedTree } from '../../store/tree/committed-tree.js';
import type { BuildReport } from '../../domain/submission.js';
import { SubmissionViews } from '../../store/layout/submission-views.js';
import { storePaths } from '../../store/layout/store-paths.js';
import { checkPkgid } from '../../domain/names.js';
import type { AppContext } from '../../service/app-context.js';
import { readPackage } from '../../service/read-package.js';

export function parsePkgid(text: string): number {
  try {
    return checkPkgid(text);
  } catch {
    throw new MorphuxError('not_found', `no submission with pkgid ${JSON.stringify(text.slice(0, 20))}`);
  }
}

/**
 * The log of a submission's newest builder report, from the last commit: users' reports (whose
 * logs are whatever they posted) never count, nor files written but not committed. null when
 * there is no builder report or it has no log.
 */
async function builderLog(tree: CommittedTree, pkgid: number): Promise<Buffer | null> {
  const dir = storePaths.reports(pkgid);
  const ns = await numberedJson(tree, dir);
  for (let i = ns.length - 1; i >= 0; i--) {
    const report = await tree.readJson<BuildReport>(`${dir}/${ns[i]}.json`);
    if (report?.kind !== 'builder') continue;
    if (!report.log) return null;
    const o = await tree.objects.read(`HEAD:${storePaths.reportLog(pkgid, ns[i]!)}`);
    return o?.type === 'blob' ? o.data : null;
  }
  return null;
}

export function apiPackages(ctx: AppContext): Hono {
  const app = new Hono();

  app.get('/ports', async (c) => {
    const { offset, limit } = pageWindow(c);
    const page = await queryPorts(ctx, {
      q: c.req.query('q'), tag: c.req.query('tag'), category: c.req.query('category'),
      submitter: c.req.query('submitter'), stable: c.req.query('stable'), reproducible: c.req.query('reproducible'), sort: c.req.query('sort'),
    }, offset, limit);
    return c.body(pagedJson(offset, limit, page.total, page.rows), 200, { 'Content-Type': 'application/json' });
  });

  app.get('/ports/:name', async (c) => {
    const name = c.req.param('name');
    const { index: ix, owners } = await readPackage(ctx, name);
    return c.json({
      name,
      description: ix?.description ?? '',
      category: ix?.category ?? null,
      tags: ix?.tags ?? [],
      maintainers: owners?.maintainers ?? [],
      clone_url: `${ctx.publicUrl}/${name}.git`,
      stable_pkgid: ix?.submissions.find((s) => s.stable)?.pkgid ?? null,
      submissions: (ix?.submissions ?? []).map((s) => ({
        pkgid: s.pkgid, version: s.version, state: s.state, reason: s.reason, stable: s.stable, submitter: s.submitter,
        submitter_role: roleOf(s), // a 'user' submission is listed but never speaks for the package
        submitted_at: s.submitted_at, updated_at: s.updated_at, tags: s.tags, votes: s.votes, failed_reports: s.failed_reports,
        reproducible: typeof s.reproducible === 'boolean' ? s.reproducible : 'unchecked', // the rebuild check's verdict
      })),
    });
  });

  const views = new SubmissionViews(ctx.committed);
  app.get('/pkg/:pkgid', async (c) => c.body(await views.json(parsePkgid(c.req.param('pkgid'))), 200, { 'Content-Type': 'application/json' }));

  app.get('/pkg/:pkgid/log', async (c) => {
    const pkgid = parsePkgid(c.req.param('pkgid'));
    const view = await readSubmission(ctx.committed, pkgid);
    c.header('Content-Type', 'text/plain; charset=utf-8');
    c.header('Cache-Control', 'no-store');
    return stream(c, async (out) => {
      let resolveEnd!: () => void;
      const ended = new Promise<void>((r) => { resolveEnd = r; });
      let writing = Promise.resolve();
      const live = ctx.liveLogs.follow(pkgid, (chunk) => { writing = writing.then(() => out.write(chunk)).then(() => {}); }, () => resolveEnd());
      if (live) {
        out.onAbort(() => { live.stop(); resolveEnd(); });
        await out.write(live.sofar);
        await ended;
        await writing;
        live.stop();
        return;
      }
      // not running here: the newest builder report's log, if any
      const buildLog = await builderLog(ctx.committed, pkgid);
      if (buildLog) await out.write(buildLog);
      else await out.write(`submission ${pkgid} is ${view.status.state}; no build log yet\n`);
    });
  });

  return app;
}
