// Flag a submission stable, or clear the flag: a maintainer of its package or an admin. One
// current holder per package; the history stays in meta/flags.json (store/set-stable-flag.ts).
import { z } from 'zod';
import { setStableFlag } from '../../store/changes/set-stable-flag.js';
import { actorName } from '../actor.js';
import { flagField, pkgidField } from '../input-fields.js';
import { defineAction, SMALL_BODY } from '../perform.js';
import { submissionFacts } from '../package-facts.js';
import type { MetaContext } from './meta-context.js';

export const setStable = defineAction({
  name: 'stable.set',
  input: z.object({ pkgid: pkgidField, on: flagField }).strict(),
  bodyLimit: SMALL_BODY,
  facts: async (ctx: MetaContext, i) => ({ package: (await submissionFacts(ctx, i.pkgid)).package }),
  run: async (ctx: MetaContext, actor, i) => ({ pkgid: i.pkgid, flags: await setStableFlag(ctx.store, i.pkgid, actorName(actor), i.on) }),
});
