// Who may do what: one table, one row per action, read by every door through service/perform.ts.
// A row says which kind of caller may try at all (`who`) and, where the answer depends on the
// thing acted on, a decision over the facts the action loaded (`may`). The operator (the machine's
// own `morphux` commands) passes every row; a worker token passes only the worker's rows.
import type { Principal } from '../domain/principal.js';
import { MorphuxError } from '../domain/errors.js';
import { isOperator, type Actor } from './actor.js';

/** What a decision may look at, loaded by the action from the thing acted on. */
export interface Facts {
  /** the package acted on, its maintainers and its owner (creator) */
  package?: { name: string; maintainers: readonly string[]; owner: string };
  /** the author of the tag being removed (null: the tag is not there) */
  tagAuthor?: string | null;
  /** the user an account action is about */
  subjectUser?: string;
  /** the user a maintainer change is about, and whether it is a worker's account */
  target?: { name: string; worker: boolean };
}

type Who = 'user' | 'admin' | 'worker';
interface Rule {
  who: Who;
  /** null: allowed; a string: why not (403) */
  may?: (p: Principal, f: Facts) => string | null;
  /** what nobody may do, the operator included (403) */
  never?: (f: Facts) => string | null;
}

const isMaintainer = (p: Principal, f: Facts) => p.admin || !!f.package?.maintainers.includes(p.name);
const maintainerOnly = (what: string) => (p: Principal, f: Facts) =>
  isMaintainer(p, f) ? null : `only a maintainer of ${f.package?.name} or an admin may ${what}`;
const selfOnly = (p: Principal, f: Facts) => (f.subjectUser === p.name ? null : 'only the user themself may do this');

export const RULES = {
  'session.create': { who: 'user' },
  'comment.add': { who: 'user' },
  'vote.set': { who: 'user' },
  'tag.add': { who: 'user' },
  'tag.remove': {
    who: 'user',
    may: (p, f) => (f.tagAuthor === p.name || f.tagAuthor === null || isMaintainer(p, f) ? null
      : `only the user who added the tag, a maintainer of ${f.package?.name} or an admin may remove it`),
  },
  'report.add': { who: 'user' },
  'stable.set': { who: 'user', may: maintainerOnly('flag a submission stable') },
  'submission.upload': { who: 'user' },
  'package.create': { who: 'user', may: (p, f) => (f.subjectUser === p.name || p.admin ? null : 'only an admin may create a package for another user') },
  'push': { who: 'user', may: maintainerOnly('push to it') },
  'maintainer.set': {
    who: 'user',
    never: (f) => (f.target?.worker ? `${f.target.name} is a build worker's account; it cannot maintain a package` : null),
    may: (p, f) => (p.admin || f.package?.owner === p.name ? null
      : `only the owner of ${f.package?.name} (${f.package?.owner}) or an admin manages its maintainers`),
  },
  'user.create': { who: 'admin' },
  'token.list': { who: 'user', may: selfOnly },
  'token.add': { who: 'user', may: selfOnly },
  'token.revoke': { who: 'user', may: selfOnly },
  'worker.job': { who: 'worker' },
} satisfies Record<string, Rule>;

export type ActionName = keyof typeof RULES;

/** May this caller try the action at all? 401 for nobody, 403 for the wrong kind of account. */
export function admit(name: ActionName, actor: Actor): void {
  if (isOperator(actor)) return;
  const rule: Rule = RULES[name];
  if (!actor) throw new MorphuxError('unauthenticated', 'this needs a token: Authorization: Bearer <token>');
  if (rule.who === 'worker') {
    if (!actor.worker) throw new MorphuxError('forbidden', 'the worker API takes a worker token (morphux user add NAME --worker)');
    return;
  }
  if (actor.worker) throw new MorphuxError('forbidden', 'a worker token is accepted only by the internal worker API');
  if (rule.who === 'admin' && !actor.admin) throw new MorphuxError('forbidden', 'only an admin may do this');
}

/** The decision over what the action is about (403 with the reason). */
export function decide(name: ActionName, actor: Actor, facts: Facts): void {
  admit(name, actor);
  const rule: Rule = RULES[name];
  const why = rule.never?.(facts) ?? (isOperator(actor) ? null : rule.may?.(actor!, facts) ?? null);
  if (why !== null) throw new MorphuxError('forbidden', why);
}

/** For reads that show what a caller could do (a page's buttons): the same rows, as a yes or no. */
export function allowed(name: ActionName, actor: Actor, facts: Facts): boolean {
  try {
    decide(name, actor, facts);
    return true;
  } catch {
    return false;
  }
}
