// Tags users put on a submission (meta/tags.json): add or remove one, one store commit each;
// adding a tag already there or removing one that is not writes nothing.
import { MorphuxError } from '../../domain/errors.js';
import { checkTag } from '../../domain/names.js';
import { changeMeta } from './change-meta.js';
import type { TagsDoc } from '../layout/read-submission.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';
import { nowIso } from '../../domain/submission.js';

export const MAX_TAGS_PER_SUBMISSION = 64;

export async function setTag(store: Store, pkgid: number, actor: string, tag: string, on: boolean): Promise<TagsDoc> {
  checkTag(tag);
  return changeMeta(store, pkgid, `${on ? 'tag' : 'untag'} ${pkgid} ${tag}`, actor, async (tx) => {
    const doc = (await store.readJson<TagsDoc>(storePaths.tags(pkgid))) ?? { tags: [] };
    const has = doc.tags.some((t) => t.tag === tag);
    if (has === on) return doc;
    if (on) {
      if (doc.tags.length >= MAX_TAGS_PER_SUBMISSION) throw new MorphuxError('conflict', `a submission has at most ${MAX_TAGS_PER_SUBMISSION} tags`);
      doc.tags.push({ tag, by: actor, at: nowIso() });
      doc.tags.sort((a, b) => a.tag.localeCompare(b.tag));
    } else doc.tags = doc.tags.filter((t) => t.tag !== tag);
    await tx.writeJson(storePaths.tags(pkgid), doc);
    return doc;
  });
}
