// The API's door to a use case: who is asking (auth.ts), the input from the path and, where the
// action takes one, a JSON body read with the action's own limit; then service/perform.ts.
import type { Context } from 'hono';
import type { Action, ActionContextBase } from '../service/perform.js';
import { perform } from '../service/perform.js';
import type { AppContext } from '../service/app-context.js';
import { apiCaller } from './auth.js';
import { readJsonBody } from './read-json-body.js';

export async function apiAct<I, R, C extends ActionContextBase>(
  ctx: AppContext & C, c: Context, action: Action<I, R, C>, fromPath: Record<string, unknown>, body: 'json' | 'none' = 'json',
): Promise<R> {
  const read = async () => (body === 'json' ? { ...(await readJsonBody(c, action.bodyLimit(ctx.config))), ...fromPath } : fromPath);
  return perform(ctx, await apiCaller(ctx, c), action, read);
}
