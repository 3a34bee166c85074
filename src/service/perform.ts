// How every door runs a use case: admit the caller (authorize.ts), take from the throttle, parse
// the raw input with the action's one schema, load the facts the rule needs, decide, run. The
// API routes, the website's forms and the operator commands call this and nothing else; they
// only turn their transport into raw input and the action's typed error into their answer.
import type { z } from 'zod';
import type { Config } from '../config/config-schema.js';
import { MorphuxError } from '../domain/errors.js';
import { isOperator, type Caller, type Operator } from './actor.js';
import type { Principal } from '../domain/principal.js';
import { admit, decide, type ActionName, type Facts } from './authorize.js';
import type { Throttle, ThrottleKind } from './throttle.js';

/** What every action's context has; each action names what more it needs. */
export interface ActionContextBase {
  config: Config;
  /** absent for the operator's commands: they are not throttled */
  throttle?: Throttle;
}

export interface Action<I, R, C extends ActionContextBase> {
  name: ActionName;
  /** the one schema of the action's input, whichever door it came through */
  input: z.ZodType<I>;
  /** the largest request body a door may read for it (JSON or form) */
  bodyLimit: (config: Config) => number;
  /** the throttle bucket it takes from (default: write; null: none, for reads) */
  throttle?: ThrottleKind | null;
  /** what the decision looks at (the package, the tag's author, …); may throw not_found */
  facts?: (ctx: C, input: I, actor: Principal | Operator) => Promise<Facts>;
  run: (ctx: C, actor: Principal | Operator, input: I, facts: Facts) => Promise<R>;
}

export function defineAction<I, R, C extends ActionContextBase>(a: Action<I, R, C>): Action<I, R, C> {
  return a;
}

/** Small JSON bodies: every action but those carrying a log or an archive. */
export const SMALL_BODY = (config: Config) => Math.min(config.server.body_limit_bytes, 64 * 1024);

export function parseInput<I>(schema: z.ZodType<I>, raw: unknown): I {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new MorphuxError('bad_request', `${issue.path.join('.') || 'input'}: ${issue.message}`, { path: issue.path.map(String) });
}

/** raw: the input as the door has it, or a function that reads it (a request body is read only
 *  once the caller is admitted and not throttled). */
export async function perform<I, R, C extends ActionContextBase>(ctx: C, caller: Caller, action: Action<I, R, C>, raw: unknown | (() => Promise<unknown>)): Promise<R> {
  admit(action.name, caller.actor);
  const actor = caller.actor!;
  const bucket = action.throttle === undefined ? 'write' : action.throttle;
  if (!isOperator(actor) && bucket) await ctx.throttle?.take(bucket, { user: actor.name, address: caller.address });
  const input = parseInput(action.input, typeof raw === 'function' ? await (raw as () => Promise<unknown>)() : raw);
  const facts = action.facts ? await action.facts(ctx, input, actor) : {};
  decide(action.name, actor, facts);
  return action.run(ctx, actor, input, facts);
}
