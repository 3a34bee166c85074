// Comment on a submission: any signed-in user; 1 to 16 KiB of text without control characters.
import { z } from 'zod';
import { addComment as storeComment } from '../../store/changes/add-comment.js';
import { actorName } from '../actor.js';
import { pkgidField, textField } from '../input-fields.js';
import { defineAction, SMALL_BODY } from '../perform.js';
import { submissionFacts } from '../package-facts.js';
import type { MetaContext } from './meta-context.js';

export const MAX_COMMENT_CHARS = 16 * 1024;

export const addComment = defineAction({
  name: 'comment.add',
  input: z.object({ pkgid: pkgidField, text: textField(MAX_COMMENT_CHARS, { min: 1 }) }).strict(),
  bodyLimit: SMALL_BODY,
  facts: async (ctx: MetaContext, i) => ({ package: (await submissionFacts(ctx, i.pkgid)).package }),
  run: (ctx: MetaContext, actor, i) => storeComment(ctx.store, i.pkgid, actorName(actor), i.text),
});
