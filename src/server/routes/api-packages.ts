// Read API over the store: /api/v1/ports (list and filter), /api/v1/ports/<name>,
// /api/v1/pkg/<pkgid>, its reports and its build log (followed live while it builds).
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { readdir, readFile } from 'node:fs/promises';
import { MorphuxError } from '../../domain/errors.js';
import { checkPackageName } from '../../domain/names.js';
import { compareVersions } from '../../domain/version.js';
import { listIndexedPorts, readPortIndex } from '../../store/port-index.js';
import { readSubmission } from '../../store/read-submission.js';
import { checkPkgid, storePaths } from '../../store/store-paths.js';
import type { BuildReport } from '../../store/submission-types.js';
import type { AppContext } from '../../service/app-context.js';
import { repoExists } from '../../repos/create-repo.js';

export function parsePkgid(text: string): number {
  try {
    return checkPkgid(text);
  } catch {
    throw new MorphuxError('not_found', `no submission with pkgid ${JSON.stringify(text.slice(0, 20))}`);
  }
}

export function apiPackages(ctx: AppContext): Hono {
  const app = new Hono();

  app.get('/ports', async (c) => {
    const q = (c.req.query('q') ?? '').toLowerCase();
    const tag = c.req.query('tag');
    const category = c.req.query('category');
    const submitter = c.req.query('submitter');
    const stable = c.req.query('stable');
    const sort = c.req.query('sort') ?? 'name';
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 50) || 50, 1), 500);
    const offset = Math.max(Number(c.req.query('offset') ?? c.req.query('next') ?? 0) || 0, 0);
    if (!['name', 'updated'].includes(sort)) throw new MorphuxError('bad_request', 'sort must be name or updated');
    const items = [];
    for (const name of await listIndexedPorts(ctx.store)) {
      const ix = await readPortIndex(ctx.store, name);
      if (!ix) continue;
      if (q && !name.includes(q) && !ix.description.toLowerCase().includes(q)) continue;
      if (tag && !ix.tags.includes(tag)) continue;
      if (category && ix.category !== category) continue;
      if (submitter && !ix.submissions.some((s) => s.submitter === submitter)) continue;
      if (stable === 'true' && !ix.submissions.some((s) => s.stable)) continue;
      const latest = [...ix.submissions].sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid)[0];
      const updated = ix.submissions.reduce((m, s) => (s.updated_at > m ? s.updated_at : m), '');
      items.push({ name, description: ix.description, category: ix.category, tags: ix.tags, latest_version: latest?.version ?? null, latest_pkgid: latest?.pkgid ?? null, updated_at: updated });
    }
    if (sort === 'updated') items.sort((a, b) => b.updated_at.localeCompare(a.updated_at));
    const page = items.slice(offset, offset + limit);
    return c.json({ items: page, total: items.length, next: offset + limit < items.length ? String(offset + limit) : null });
  });

  app.get('/ports/:name', async (c) => {
    const name = c.req.param('name');
    try {
      checkPackageName(name);
    } catch {
      throw new MorphuxError('not_found', `no package ${JSON.stringify(name.slice(0, 80))}`);
    }
    const [ix, owners] = await Promise.all([readPortIndex(ctx.store, name), ctx.owners.get(name)]);
    if (!ix && !owners && !(await repoExists(ctx.layout.repos, name))) throw new MorphuxError('not_found', `no package ${name}`);
    return c.json({
      name,
      description: ix?.description ?? '',
      category: ix?.category ?? null,
      tags: ix?.tags ?? [],
      maintainers: owners?.maintainers ?? [],
      clone_url: `${ctx.publicUrl}/${name}.git`,
      submissions: (ix?.submissions ?? []).map((s) => ({ pkgid: s.pkgid, version: s.version, state: s.state, reason: s.reason, stable: s.stable, submitter: s.submitter, submitted_at: s.submitted_at })),
    });
  });

  app.get('/pkg/:pkgid', async (c) => c.json(await readSubmission(ctx.store, parsePkgid(c.req.param('pkgid')))));

  app.get('/pkg/:pkgid/reports', async (c) => {
    const pkgid = parsePkgid(c.req.param('pkgid'));
    await readSubmission(ctx.store, pkgid); // 404 for an unknown pkgid
    let names: string[] = [];
    try {
      names = await readdir(ctx.store.abs(storePaths.reports(pkgid)));
    } catch { /* none yet */ }
    const ns = names.map((f) => /^(\d+)\.json$/.exec(f)).filter((m) => m).map((m) => Number(m![1])).sort((a, b) => a - b);
    const items = [];
    for (const n of ns) items.push(await ctx.store.readJson<BuildReport>(storePaths.report(pkgid, n)));
    return c.json({ items, total: items.length, next: null });
  });

  app.get('/pkg/:pkgid/log', async (c) => {
    const pkgid = parsePkgid(c.req.param('pkgid'));
    const view = await readSubmission(ctx.store, pkgid);
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
      const dir = ctx.store.abs(storePaths.reports(pkgid));
      let logs: string[] = [];
      try {
        logs = (await readdir(dir)).filter((f) => /^\d+\.log$/.test(f)).sort((a, b) => parseInt(b) - parseInt(a));
      } catch { /* no reports */ }
      if (logs.length) await out.write(await readFile(`${dir}/${logs[0]}`));
      else await out.write(`submission ${pkgid} is ${view.status.state}; no build log yet\n`);
    });
  });

  return app;
}
