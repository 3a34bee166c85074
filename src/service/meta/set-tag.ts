// Tags on a submission: any signed-in user adds one; the user who added it, a maintainer or an
// admin removes it (authorize.ts, tag.add and tag.remove).
import { z } from 'zod';
import type { TagsDoc } from '../../store/layout/read-submission.js';
import { setTag } from '../../store/changes/set-tag.js';
import { storePaths } from '../../store/layout/store-paths.js';
import { actorName } from '../actor.js';
import { pkgidField, tagField } from '../input-fields.js';
import { defineAction, SMALL_BODY } from '../perform.js';
import { submissionFacts } from '../package-facts.js';
import type { MetaContext } from './meta-context.js';

const tagInput = z.object({ pkgid: pkgidField, tag: tagField }).strict();

const tagsOf = (doc: TagsDoc, pkgid: number) => ({ pkgid, tags: doc.tags.map((t) => t.tag) });

export const addTag = defineAction({
  name: 'tag.add',
  input: tagInput,
  bodyLimit: SMALL_BODY,
  facts: async (ctx: MetaContext, i) => ({ package: (await submissionFacts(ctx, i.pkgid)).package }),
  run: async (ctx: MetaContext, actor, i) => tagsOf(await setTag(ctx.store, i.pkgid, actorName(actor), i.tag, true), i.pkgid),
});

export const removeTag = defineAction({
  name: 'tag.remove',
  input: tagInput,
  bodyLimit: SMALL_BODY,
  facts: async (ctx: MetaContext, i) => {
    const { package: pkg } = await submissionFacts(ctx, i.pkgid);
    const doc = await ctx.store.readJson<TagsDoc>(storePaths.tags(i.pkgid));
    return { package: pkg, tagAuthor: doc?.tags.find((t) => t.tag === i.tag)?.by ?? null };
  },
  run: async (ctx: MetaContext, actor, i) => tagsOf(await setTag(ctx.store, i.pkgid, actorName(actor), i.tag, false), i.pkgid),
});
