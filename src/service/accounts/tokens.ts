// A user's own named tokens: list, add (shown once), revoke. A user manages their own; the
// operator anyone's. A new token never outlives the token that made it: without an expiry it
// takes the maker's, and a later one is refused.
import { z } from 'zod';
import { MorphuxError } from '../../domain/errors.js';
import { isOperator } from '../actor.js';
import { futureTimeField, tokenNameField, userField } from '../input-fields.js';
import { defineAction, SMALL_BODY } from '../perform.js';
import type { AccountsContext } from './accounts-context.js';

const self = async (_ctx: AccountsContext, i: { user: string }) => ({ subjectUser: i.user });

export const listTokens = defineAction({
  name: 'token.list',
  input: z.object({ user: userField }).strict(),
  bodyLimit: SMALL_BODY,
  throttle: null,
  facts: self,
  run: (ctx: AccountsContext, _a, i) => ctx.users.listTokens(i.user),
});

export const addToken = defineAction({
  name: 'token.add',
  input: z.object({ user: userField, name: tokenNameField, expires_at: futureTimeField.nullable().optional() }).strict(),
  bodyLimit: SMALL_BODY,
  facts: self,
  run: async (ctx: AccountsContext, actor, i) => {
    let expires = i.expires_at ?? undefined;
    const ceiling = isOperator(actor) ? undefined : actor.token?.expires_at;
    if (ceiling !== undefined) {
      if (expires && expires.getTime() > Date.parse(ceiling)) {
        throw new MorphuxError('forbidden', `a new token cannot outlive the token that makes it (it expires at ${ceiling})`, { expires_at: ceiling });
      }
      expires ??= new Date(Date.parse(ceiling));
    }
    const { token, record } = await ctx.users.addToken(i.user, i.name, expires);
    return { ...record, token };
  },
});

export const revokeToken = defineAction({
  name: 'token.revoke',
  input: z.object({ user: userField, token: z.string().min(1).max(64) }).strict(),
  bodyLimit: SMALL_BODY,
  facts: self,
  run: async (ctx: AccountsContext, _a, i) => {
    await ctx.users.revokeToken(i.user, i.token); // a web session checks its token on every request
    return { revoked: i.token };
  },
});
