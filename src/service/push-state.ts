// What an instance's push hooks share (AppContext.pushes, made by the composition root): the
// archives pre-receive checked, for post-receive to submit, and the mutex commits are submitted
// under (handle-push.ts).
import { AsyncMutex } from '../lib/async-mutex.js';
import { PushedArchives } from './pushed-archives.js';

export interface PushState {
  /** the archives pre-receive checked, with their manifests, for post-receive to submit (one a pushed commit) */
  archives: PushedArchives;
  /** one commit submitted at a time: the idempotency check and the submit agree */
  submitting: AsyncMutex;
}

export function newPushState(): PushState {
  return { archives: new PushedArchives(), submitting: new AsyncMutex() };
}
