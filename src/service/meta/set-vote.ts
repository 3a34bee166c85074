// Vote for a submission, or take the vote back: any signed-in user, one vote each.
import { z } from 'zod';
import { setVote as storeVote } from '../../store/changes/set-vote.js';
import { actorName } from '../actor.js';
import { flagField, pkgidField } from '../input-fields.js';
import { defineAction, SMALL_BODY } from '../perform.js';
import { submissionFacts } from '../package-facts.js';
import type { MetaContext } from './meta-context.js';

export const setVote = defineAction({
  name: 'vote.set',
  input: z.object({ pkgid: pkgidField, on: flagField }).strict(),
  bodyLimit: SMALL_BODY,
  facts: async (ctx: MetaContext, i) => ({ package: (await submissionFacts(ctx, i.pkgid)).package }),
  run: async (ctx: MetaContext, actor, i) => {
    const who = actorName(actor);
    const doc = await storeVote(ctx.store, i.pkgid, who, i.on);
    return { pkgid: i.pkgid, votes: doc.voters.length, voted: doc.voters.some((v) => v.user === who) };
  },
});
