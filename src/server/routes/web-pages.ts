// Pages for people (CONTRACT.md, "Web pages"). The walking skeleton serves a plain home page with
// the recent submissions; the full website is its own issue.
import { Hono } from 'hono';
import { html } from 'hono/html';
import { listIndexedPorts, readPortIndex, type PortIndexEntry } from '../../store/port-index.js';
import type { AppContext } from '../../service/app-context.js';

export function webPages(ctx: AppContext): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const recent: Array<PortIndexEntry & { name: string }> = [];
    for (const name of await listIndexedPorts(ctx.store)) {
      for (const s of (await readPortIndex(ctx.store, name))?.submissions ?? []) recent.push({ ...s, name });
    }
    recent.sort((a, b) => b.pkgid - a.pkgid);
    const rows = recent.slice(0, 50).map((s) => html`<tr><td><a href="/pkg/${s.pkgid}">${s.pkgid}</a></td><td>${s.name}</td><td>${s.version}</td><td>${s.state}${s.reason ? html` (${s.reason})` : ''}</td><td>${s.submitter}</td><td>${s.submitted_at}</td></tr>`);
    return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Morphux packages</title></head>
<body><header><h1>Morphux packages</h1></header>
<main><h2>Recent submissions</h2>
<table><thead><tr><th>pkgid</th><th>package</th><th>version</th><th>state</th><th>submitter</th><th>submitted</th></tr></thead>
<tbody>${rows}</tbody></table>
<p>API: <a href="/api/v1/ports">/api/v1/ports</a> · store: <a href="/store/">/store/</a> · <code>git clone ${ctx.publicUrl}/store.git</code></p></main></body></html>`);
  });
  return app;
}
