// Pages for people (CONTRACT.md "Web pages"): /, /packages, /category/<c>, /tag/<t>,
// /packages/<name>, /submissions/<pkgid>, /builds. Server-rendered HTML, every user string
// escaped by hono/html; errors are real pages with the right status.
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import { MorphuxError } from '../../domain/errors.js';
import { checkPackageName, checkTag } from '../../domain/names.js';
import { compareVersions } from '../../domain/version.js';
import type { AppContext } from '../../service/app-context.js';
import { queryPorts, type PortListItem } from '../../service/query-ports.js';
import { queryEligible } from '../../store/layout/port-index.js';
import { portpkgDir } from '../../store/layout/store-paths.js';
import type { RoleSource, SubmissionStatus } from '../../domain/submission.js';
import type { FileFacts } from '../../domain/rebuild.js';
import { bytes, page, stateBadge, type Html } from '../web/html-layout.js';
import { byPlainUser, submissionPage } from '../web/read-models.js';
import { parsePkgid } from './api-packages.js';
import { sessionOf } from './web-session.js';
import { htmlErrors } from '../web/html-errors.js';
import { actionForms } from '../web/action-forms.js';

const PAGE_SIZE = 50;

/** The mark of a submission made by a plain user: listed and reachable, but not the package's word. */
const userMark = (): Html => html`<span class="by-user" data-submitter-role="user">submitted by a user, not a maintainer</span>`;

function portTable(items: PortListItem[]): Html {
  if (items.length === 0) return html`<p>No packages found.</p>`;
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Package</th><th scope="col">Latest</th><th scope="col">Description</th><th scope="col">Votes</th><th scope="col">Updated</th></tr></thead>
<tbody>${items.map((i) => html`<tr><td><a href="/packages/${i.name}">${i.name}</a></td><td>${i.latest_version ?? '–'}</td><td>${i.description}</td><td>${i.votes}</td><td>${i.updated_at}</td></tr>`)}</tbody>
</table></div>`;
}

function pager(c: Context, total: number, pageNo: number): Html {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const link = (p: number) => {
    const u = new URL(c.req.url);
    u.searchParams.set('page', String(p));
    return `${u.pathname}?${u.searchParams}`;
  };
  return html`<nav aria-label="Pages"><p>Page ${pageNo} of ${pages} (${total} packages)
${pageNo > 1 ? html` · <a href="${link(pageNo - 1)}" rel="prev">previous</a>` : ''}${pageNo < pages ? html` · <a href="${link(pageNo + 1)}" rel="next">next</a>` : ''}</p></nav>`;
}

export function webPages(ctx: AppContext): Hono {
  const app = new Hono();
  const render = async (c: Context, title: string, body: Html, status: 200 | 404 = 200) => {
    const s = await sessionOf(ctx, c);
    return c.html(page({ title, body, user: s?.user ?? null, csrf: s?.csrf, q: c.req.query('q') }), status);
  };

  const listing = async (c: Context, title: string, filter: { q?: string; tag?: string; category?: string; reproducible?: string }) => {
    const sort = c.req.query('sort') ?? 'name';
    const pageNo = Math.max(1, Number(c.req.query('page') ?? 1) || 1);
    const found = await queryPorts(ctx, { ...filter, sort }, (pageNo - 1) * PAGE_SIZE, PAGE_SIZE);
    const shown = found.rows.map((r) => JSON.parse(r) as PortListItem);
    return render(c, title, html`<h1>${title}</h1>
<form method="get"><label for="sort">Sort by</label>
<select id="sort" name="sort">${['name', 'updated', 'votes', 'failures'].map((s) => html`<option value="${s}"${s === sort ? ' selected' : ''}>${s}</option>`)}</select>
${filter.q ? html`<input type="hidden" name="q" value="${filter.q}">` : ''}${filter.reproducible ? html`<input type="hidden" name="reproducible" value="${filter.reproducible}">` : ''}<button type="submit" class="secondary">Sort</button></form>
${portTable(shown)}${pager(c, found.total, pageNo)}`);
  };

  app.get('/', async (c) => {
    const [recent, stable] = await Promise.all([ctx.catalog.newest(20, 'submitted'), ctx.catalog.newest(10, 'stable')]);
    const waiting = ctx.queue.waiting().length;
    const running = ctx.queue.running();
    return render(c, 'Home', html`<h1>Morphux packages</h1>
<form role="search" method="get" action="/packages"><label for="q-home">Find a package</label> <input id="q-home" name="q" type="search"> <button type="submit">Search</button></form>
<section aria-labelledby="queue-h"><h2 id="queue-h">Build queue</h2><p>${waiting} queued, ${running.length} building${running.length ? html`: ${running.map((r) => html`<a href="/submissions/${r.pkgid}">${r.pkgid}</a> `)}` : ''} · <a href="/builds">all builds</a></p></section>
<section aria-labelledby="recent-h"><h2 id="recent-h">Recent submissions</h2>${entryTable(recent)}</section>
<section aria-labelledby="stable-h"><h2 id="stable-h">Recently flagged stable</h2>${stable.length ? entryTable(stable) : html`<p>None yet.</p>`}</section>`);
  });

  app.get('/packages', (c) => listing(c, c.req.query('q') ? `Packages matching “${c.req.query('q')}”` : 'All packages', { q: c.req.query('q'), reproducible: c.req.query('reproducible') }));
  app.get('/category/:c', (c) => listing(c, `Category ${checkTag(c.req.param('c'))}`, { category: c.req.param('c') }));
  app.get('/tag/:t', (c) => listing(c, `Tag ${checkTag(c.req.param('t'))}`, { tag: c.req.param('t') }));

  app.get('/packages/:name', async (c) => {
    const name = c.req.param('name');
    try { checkPackageName(name); } catch { throw new MorphuxError('not_found', 'no such package'); }
    const [ix, owners] = await Promise.all([ctx.catalog.get(name), ctx.owners.get(name)]);
    if (!ix && !owners) throw new MorphuxError('not_found', `no package ${name}`);
    const subs = [...(ix?.submissions ?? [])].sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid);
    const stable = subs.find((s) => s.stable);
    // the list's latest_version (port-summary.ts): a maintainer's, an admin's or the stable one
    const latest = subs.find(queryEligible);
    const votes = subs.reduce((n, s) => n + (s.votes ?? 0), 0);
    return render(c, name, html`<h1>${name}</h1>
<p>${ix?.description ?? ''}</p>
<dl>
<dt>Maintainers</dt><dd>${(owners?.maintainers ?? []).join(', ') || '–'}</dd>
<dt>Category</dt><dd>${ix?.category ? html`<a href="/category/${ix.category}">${ix.category}</a>` : '–'}</dd>
<dt>Tags</dt><dd class="tags">${(ix?.tags ?? []).map((t) => html`<a href="/tag/${t}">${t}</a>`)}</dd>
<dt>Latest</dt><dd>${latest ? html`<a href="/submissions/${latest.pkgid}" data-latest-pkgid="${latest.pkgid}">${latest.version} (pkgid ${latest.pkgid})</a>` : '–'}</dd>
<dt>Stable</dt><dd>${stable ? html`<a href="/submissions/${stable.pkgid}">${stable.version} (pkgid ${stable.pkgid})</a>` : 'not flagged'}</dd>
<dt>Votes</dt><dd>${votes}</dd>
<dt>Clone</dt><dd><code>git clone ${ctx.publicUrl}/${name}.git</code></dd>
<dt>Get it</dt><dd><code>mpm get ${name}</code>${stable ? html` · <code>mpm get ${name}@stable</code>` : ''}</dd>
</dl>
<h2>Submissions</h2>${entryTable(subs.map((s) => ({ ...s, name })))}`);
  });

  app.get('/submissions/:pkgid', async (c) => {
    const pkgid = parsePkgid(c.req.param('pkgid'));
    const { view, role, reports, comments } = await submissionPage(ctx, pkgid);
    const s = view.submission;
    const b = view.status.build;
    const session = await sessionOf(ctx, c);
    return render(c, `${s.name} ${s.version} (pkgid ${pkgid})`, html`<h1><a href="/packages/${s.name}">${s.name}</a> ${s.version} <span class="muted">pkgid ${pkgid}</span></h1>
<dl>
<dt>State</dt><dd>${stateBadge(view.status.state, view.status.reason)}${view.status.message && view.status.state === 'failed' ? html` — ${view.status.message}` : ''}</dd>
<dt>Submitted</dt><dd>${s.submitted_at} by ${s.submitter} (${s.source.type === 'git' ? html`git commit <code>${s.source.commit.slice(0, 12)}</code>` : 'upload'})${role === 'user' ? html` · ${userMark()}` : ''}</dd>
<dt>Download</dt><dd><a href="/pkg/${pkgid}">${ctx.publicUrl}/pkg/${pkgid}</a> <span class="muted">sha256 <code>${s.sha256}</code></span></dd>
<dt>Stable</dt><dd>${view.flags.stable ? 'yes' : 'no'}</dd>
<dt>Reproducible</dt><dd>${reproducibleBadge(view.status)}</dd>
<dt>Tags</dt><dd class="tags">${view.tags.map((t) => html`<a href="/tag/${t}">${t}</a>`)}</dd>
<dt>Votes</dt><dd>${view.votes}</dd>
<dt>Dependencies</dt><dd>${Object.entries({ ...s.dependencies, ...s.build_dependencies }).map(([n, r]) => html`<a href="/packages/${n}">${n}</a> <code>${r}</code> `)}${b?.resolved_dependencies?.length ? html` → pkgids ${b.resolved_dependencies.map((d) => html`<a href="/submissions/${d}">${d}</a> `)}` : ''}</dd>
</dl>
${b ? html`<h2>Build</h2><dl>
<dt>Architecture</dt><dd>${b.arch}</dd><dt>Installed size</dt><dd>${bytes(b.installed_size)} (${b.installed_size} bytes)</dd>
<dt>Compile time</dt><dd>${b.compile_seconds.toFixed(1)} s</dd>
<dt>Binaries</dt><dd>${b.binaries.map((f) => html`<code>${f}</code> `)}</dd></dl>
<details><summary>${b.files.length} files created, ${b.modified_files.length} modified</summary><ul>${b.files.map((f) => html`<li><code>${f}</code></li>`)}${b.modified_files.map((f) => html`<li><code>${f}</code> (modified)</li>`)}</ul></details>` : ''}
${rebuildSection(view.status)}
<h2>Reports</h2>${reports.length ? html`<div class="table-wrap"><table><thead><tr><th scope="col">#</th><th scope="col">By</th><th scope="col">Arch</th><th scope="col">Status</th><th scope="col">When</th><th scope="col">Log</th></tr></thead><tbody>
${reports.map((r) => html`<tr><td>${r.n}</td><td>${r.reporter}</td><td>${r.arch}</td><td>${stateBadge(r.status === 'ok' ? 'good' : 'failed', r.reason)}</td><td>${r.created_at}</td><td>${r.log ? html`<a href="/store/${portpkgDir(pkgid)}/meta/reports/${r.log}">log</a>` : ''}</td></tr>`)}
</tbody></table></div>` : html`<p>No reports yet.</p>`}
<h2>Comments</h2>${comments.length ? html`<ol class="comments">${comments.map((cm) => html`<li><p><strong>${cm.author}</strong> <span class="muted">${cm.created_at}</span></p><p>${cm.text}</p></li>`)}</ol>` : html`<p>No comments yet.</p>`}
${actionForms(session, pkgid, view)}`);
  });

  app.get('/builds', async (c) => {
    const running = ctx.queue.running();
    const waiting = ctx.queue.waiting();
    const failures = await ctx.catalog.newest(30, 'failed');
    return render(c, 'Builds', html`<h1>Builds</h1>
<h2>Building</h2>${running.length ? html`<ul>${running.map((r) => html`<li><a href="/submissions/${r.pkgid}">pkgid ${r.pkgid}</a> (${r.arch}${r.kind === 'rebuild' ? ', rebuild check' : ''})${r.progress ? html` · <span class="progress">${r.progress.phase}${r.progress.detail ? ` ${r.progress.detail}` : ''}, ${r.progress.percent}%</span>` : ''} · <a href="/api/v1/pkg/${r.pkgid}/log">live log</a></li>`)}</ul>` : html`<p>Nothing is building.</p>`}
<h2>Queued</h2>${waiting.length ? html`<ul>${waiting.map((r) => html`<li><a href="/submissions/${r.pkgid}">pkgid ${r.pkgid}</a> (${r.arch}${r.kind === 'rebuild' ? ', rebuild check' : ''})</li>`)}</ul>` : html`<p>The queue is empty.</p>`}
<h2>Recent failures</h2>${failures.length ? entryTable(failures) : html`<p>No failures.</p>`}`);
  });

  app.onError(htmlErrors(ctx));
  return app;
}

/** The rebuild check's verdict (status.json `reproducible`, domain/rebuild.ts) as a badge. */
function reproducibleBadge(status: SubmissionStatus): Html {
  const r = status.reproducible ?? 'unchecked';
  const pending = Object.values(status.builds ?? {}).find((b) => b?.rebuild?.state === 'queued' || b?.rebuild?.state === 'running')?.rebuild?.state;
  const word = r === true ? 'yes' : r === false ? 'no' : 'unchecked';
  return html`<span class="reproducible-${word}" data-reproducible="${String(r)}">${word}</span>${pending ? html` <span class="muted">(rebuild check ${pending})</span>` : ''}`;
}

const fileFacts = (f: FileFacts | null): Html => (f
  ? html`${f.type} <code>${f.mode}</code>${f.sha256 ? html` sha256 <code>${f.sha256}</code>` : ''}${f.target ? html` → <code>${f.target}</code>` : ''}`
  : html`<span class="muted">absent</span>`);

/** Each arch's rebuild check: when, with what, and the files that differ with both builds' facts. */
function rebuildSection(status: SubmissionStatus): Html {
  const checks = Object.entries(status.builds ?? {}).filter(([, b]) => b?.rebuild).map(([arch, b]) => [arch, b!.rebuild!] as const);
  if (!checks.length) return html``;
  return html`<h2>Rebuild check</h2>${checks.map(([arch, r]) => html`<section class="rebuild" data-arch="${arch}"><h3>${arch}: ${r.state === 'done' ? (r.reproducible ? 'reproducible' : 'not reproducible') : r.state === 'failed' ? 'unchecked' : `check ${r.state}`}</h3>
<p>${r.message ?? ''}${r.checked_at ? html` <span class="muted">checked ${r.checked_at}</span>` : ''}${r.binaries_sha256 ? html` · binaries archives ${r.binaries_sha256.first === r.binaries_sha256.second ? 'identical' : 'differ'}` : ''}</p>
${r.environment ? html`<p class="muted">rebuilt with TZ=${r.environment.tz}, LANG=${r.environment.lang}, umask ${r.environment.umask}, host name ${r.environment.hostname}, the clock ${Math.round(r.environment.clock_shift_seconds / 3600)} hours on, SOURCE_DATE_EPOCH=${r.environment.source_date_epoch}</p>` : ''}
${r.differences.length ? html`<div class="table-wrap"><table class="differences"><thead><tr><th scope="col">File</th><th scope="col">First build</th><th scope="col">Rebuild</th></tr></thead><tbody>
${r.differences.map((d) => html`<tr><td><code>${d.path}</code></td><td>${fileFacts(d.first)}</td><td>${fileFacts(d.second)}</td></tr>`)}
</tbody></table></div>${r.differences_total > r.differences.length ? html`<p>${r.differences_total - r.differences.length} more not listed.</p>` : ''}` : ''}</section>`)}`;
}

function entryTable(entries: Array<{ pkgid: number; name: string; version: string; state: string; reason: string | null; submitter: string; submitted_at: string; stable?: boolean } & RoleSource>): Html {
  return html`<div class="table-wrap"><table>
<thead><tr><th scope="col">pkgid</th><th scope="col">Package</th><th scope="col">Version</th><th scope="col">State</th><th scope="col">Submitter</th><th scope="col">Submitted</th></tr></thead>
<tbody>${entries.map((e) => html`<tr><td><a href="/submissions/${e.pkgid}">${e.pkgid}</a></td><td><a href="/packages/${e.name}">${e.name}</a></td><td>${e.version}${e.stable ? html` <strong>stable</strong>` : ''}</td><td>${stateBadge(e.state, e.reason)}</td><td>${e.submitter}${byPlainUser(e) ? html` ${userMark()}` : ''}</td><td>${e.submitted_at}</td></tr>`)}</tbody>
</table></div>`;
}
