// The actions people take on a submission page (comment, vote, tag, report, flag stable): each
// form is a use case of service/meta/, the same the API calls, read with the use case's own body
// limit. The form must come from this site, carry the session's CSRF token, and a session is
// needed (401 page otherwise). Refusals are HTML error pages with the use case's error code.
import { Hono } from 'hono';
import { MorphuxError } from '../../domain/errors.js';
import type { AppContext } from '../../service/app-context.js';
import { addComment } from '../../service/meta/add-comment.js';
import { addReport } from '../../service/meta/add-report.js';
import { addTag, removeTag } from '../../service/meta/set-tag.js';
import { setStable } from '../../service/meta/set-stable.js';
import { setVote } from '../../service/meta/set-vote.js';
import type { MetaContext } from '../../service/meta/meta-context.js';
import { perform, type Action } from '../../service/perform.js';
import { addressOf } from '../auth.js';
import { readForm } from '../read-form.js';
import { requireSameOrigin } from '../same-origin.js';
import { htmlErrors } from '../web/html-errors.js';
import { sameToken, sessionOf } from './web-session.js';

type Form = Record<string, string>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyAction = Action<any, unknown, MetaContext>;

/** Each form: the action its path names (whose body limit applies) and, from the fields, the use case and its input. */
const FORMS: Record<string, { limitOf: AnyAction; pick: (f: Form) => [AnyAction, Record<string, unknown>] }> = {
  comment: { limitOf: addComment, pick: (f) => [addComment, { text: f.text }] },
  vote: { limitOf: setVote, pick: (f) => [setVote, { on: f.on ?? 'true' }] },
  tag: { limitOf: addTag, pick: (f) => [f.on === 'false' ? removeTag : addTag, { tag: f.tag }] },
  report: { limitOf: addReport, pick: (f) => [addReport, { status: f.status, arch: f.arch, message: f.message, log: f.log }] },
  'flag-stable': { limitOf: setStable, pick: (f) => [setStable, { on: f.on ?? 'true' }] },
};

export const WEB_ACTIONS = Object.keys(FORMS);

export function webActions(ctx: AppContext): Hono {
  const app = new Hono();
  app.onError(htmlErrors(ctx));
  app.post('/submissions/:pkgid/:action', async (c) => {
    // an own key only: `__proto__`, `constructor` or `toString` names no form (a 404, not a 500)
    const name = c.req.param('action');
    const form = Object.hasOwn(FORMS, name) ? FORMS[name] : undefined;
    if (!form) throw new MorphuxError('not_found', 'no such action');
    requireSameOrigin(c, ctx.publicUrl);
    const session = await sessionOf(ctx, c);
    if (!session) throw new MorphuxError('unauthenticated', 'sign in to do this');
    const fields = await readForm(c, form.limitOf.bodyLimit(ctx.config));
    if (!sameToken(fields.csrf, session.csrf)) throw new MorphuxError('forbidden', 'the form has expired; reload the page and try again');
    const [action, input] = form.pick(fields);
    await perform(ctx, { actor: session.user, address: addressOf(c) }, action, { pkgid: c.req.param('pkgid'), ...input });
    return c.redirect(`/submissions/${encodeURIComponent(c.req.param('pkgid'))}`, 303);
  });
  return app;
}
