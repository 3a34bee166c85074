// The forms under a submission for signed-in people: comment, vote, tag, report, and flag stable.
// Every form carries the session's CSRF token; people who are not signed in get a sign-in link.
import { html } from 'hono/html';
import { ARCHES } from '../../domain/arch.js';
import type { SubmissionView } from '../../store/layout/read-submission.js';
import type { WebSession } from '../routes/web-session.js';
import type { Html } from './html-layout.js';

export function actionForms(session: WebSession | null, pkgid: number, view: SubmissionView): Html {
  if (!session) return html`<p><a href="/sign-in?next=/submissions/${pkgid}">Sign in</a> to comment, vote, tag or report a build.</p>`;
  const csrf = html`<input type="hidden" name="csrf" value="${session.csrf}">`;
  const act = (a: string) => `/submissions/${pkgid}/${a}`;
  return html`<section aria-labelledby="act-h"><h2 id="act-h">Take part</h2>
<form method="post" action="${act('comment')}">${csrf}<p><label for="comment-text">Comment</label><br>
<textarea id="comment-text" name="text" rows="4" cols="60" required maxlength="16384"></textarea></p><p><button type="submit">Post comment</button></p></form>
<form method="post" action="${act('vote')}">${csrf}<input type="hidden" name="on" value="true"><button type="submit">Vote for this submission</button></form>
<form method="post" action="${act('vote')}">${csrf}<input type="hidden" name="on" value="false"><button class="secondary" type="submit">Withdraw my vote</button></form>
<form method="post" action="${act('tag')}">${csrf}<p><label for="tag-name">Tag</label> <input id="tag-name" name="tag" required pattern="[a-z0-9][a-z0-9+._\\-]*" maxlength="64">
<select name="on" aria-label="Add or remove"><option value="true">add</option><option value="false">remove</option></select> <button type="submit">Apply</button></p></form>
<form method="post" action="${act('report')}">${csrf}<fieldset><legend>Report a build</legend>
<label for="report-status">Status</label> <select id="report-status" name="status"><option value="ok">ok</option><option value="failed">failed</option></select>
<label for="report-arch">Arch</label> <select id="report-arch" name="arch">${ARCHES.map((a) => html`<option>${a}</option>`)}</select>
<p><label for="report-log">Log</label><br><textarea id="report-log" name="log" rows="3" cols="60"></textarea></p>
<button type="submit">Send report</button></fieldset></form>
<form method="post" action="${act('flag-stable')}">${csrf}<input type="hidden" name="on" value="${view.flags.stable ? 'false' : 'true'}">
<button type="submit">${view.flags.stable ? 'Remove the stable flag' : 'Flag stable'}</button> <span class="muted">(maintainers and admins)</span></form>
</section>`;
}
