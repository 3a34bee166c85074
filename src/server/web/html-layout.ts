// The frame of every page: landmarks (header, nav, main, footer), a search form, the signed-in
// user, and a small stylesheet readable on a phone with WCAG AA contrast. Everything user-provided
// goes through hono/html's escaping template, never string concatenation.
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface PageFrame {
  title: string;
  body: Html;
  user?: { name: string; admin: boolean } | null;
  csrf?: string;
  q?: string;
}

const CSS = `
:root{--fg:#1b1b1b;--muted:#555;--bg:#fff;--line:#d0d0d0;--link:#0b57d0;--good:#146c2e;--bad:#b3261e;--warn:#7a4f00}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--link)}header,main,footer{max-width:64rem;margin:0 auto;padding:0 1rem}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center;border-bottom:1px solid var(--line);padding-block:.75rem}
header .brand{font-weight:700;font-size:1.2rem;text-decoration:none;color:var(--fg)}nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0;flex-wrap:wrap}
form.search{margin-left:auto;display:flex;gap:.25rem}input,select,textarea,button{font:inherit}input,select,textarea{border:1px solid #767676;border-radius:4px;padding:.3rem .5rem}
button{border:1px solid var(--link);background:var(--link);color:#fff;border-radius:4px;padding:.3rem .8rem;cursor:pointer}button.secondary{background:#fff;color:var(--link)}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
.table-wrap{overflow-x:auto}.state-good{color:var(--good);font-weight:600}.state-failed{color:var(--bad);font-weight:600}.state-building,.state-queued{color:var(--warn);font-weight:600}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}pre{background:#f4f4f4;padding:.75rem;overflow-x:auto;white-space:pre-wrap}
.muted{color:var(--muted)}.tags a{margin-right:.5rem}.flash{border-left:4px solid var(--link);padding:.5rem 1rem;background:#eef3fd}
footer{border-top:1px solid var(--line);margin-top:2rem;padding-block:1rem;color:var(--muted)}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;min-width:0;overflow-wrap:anywhere}
code{overflow-wrap:anywhere}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.by-user{color:var(--warn);font-weight:600}
`;

export function page(f: PageFrame): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${f.title} · Morphux packages</title>
<style>${raw(CSS)}</style>
</head>
<body>
<header>
  <a class="brand" href="/">Morphux packages</a>
  <nav aria-label="Main"><ul>
    <li><a href="/packages">Packages</a></li>
    <li><a href="/builds">Builds</a></li>
    ${f.user
      ? html`<li>Signed in as <strong>${f.user.name}</strong></li>
        <li><form method="post" action="/sign-out"><input type="hidden" name="csrf" value="${f.csrf ?? ''}"><button class="secondary" type="submit">Sign out</button></form></li>`
      : html`<li><a href="/sign-in">Sign in</a></li>`}
  </ul></nav>
  <form class="search" role="search" method="get" action="/packages">
    <label class="visually-hidden" for="q">Search packages</label>
    <input id="q" name="q" type="search" placeholder="Search packages" value="${f.q ?? ''}">
    <button type="submit">Search</button>
  </form>
</header>
<main id="main">
${f.body}
</main>
<footer>Morphux package infrastructure · <a href="/api/v1/ports">JSON API</a> · <a href="/store/">the store</a></footer>
</body>
</html>`;
}

export function stateBadge(state: string, reason?: string | null): Html {
  return html`<span class="state-${state}">${state}</span>${reason ? html` <span class="muted">(${reason})</span>` : ''}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
