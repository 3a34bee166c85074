// What the git hooks ask the server (Gitea's model): pre-receive checks a push against the policy
// in repos/check-push.ts; post-receive turns each accepted version-branch update into a submission.
// Submitting a commit is idempotent: a commit that already has a submission gets it back, so a
// retried hook or the start-up reconciliation never makes a second one.
import { readPortIndex } from '../store/port-index.js';
import { archiveCommit } from '../repos/archive-commit.js';
import { checkPush, type RefUpdate } from '../repos/check-push.js';
import { ZERO_ID, type QuarantineEnv } from '../repos/read-at-commit.js';
import { repoDir } from '../repos/repo-paths.js';
import { versionOfRef } from '../domain/version.js';
import type { AppContext } from './app-context.js';
import { pkgurl, submitPortpkg } from './submit-portpkg.js';
import { AsyncMutex } from '../store/async-mutex.js';

export interface HookRequest {
  repo: string;
  pusher: string;
  updates: RefUpdate[];
  quarantine?: QuarantineEnv | null;
}

export interface HookReply {
  ok: boolean;
  messages: string[];
}

export async function preReceive(ctx: AppContext, req: HookRequest): Promise<HookReply> {
  const verdict = await checkPush({ gitdir: repoDir(ctx.layout.repos, req.repo), repoName: req.repo, updates: req.updates, quarantine: req.quarantine ?? undefined });
  if (!verdict.ok) ctx.log.info({ repo: req.repo, pusher: req.pusher, refusals: verdict.refusals }, 'push refused');
  return { ok: verdict.ok, messages: verdict.refusals.map((r) => `refused: ${r.message}`) };
}

const submitting = new AsyncMutex(); // one commit at a time: the idempotency check and the submit agree

/** The submission of a commit pushed to a version branch, made once. */
export async function submitCommit(ctx: AppContext, repo: string, ref: string, commit: string, submitter: string): Promise<{ pkgid: number; created: boolean }> {
  return submitting.run(async () => {
    const existing = (await readPortIndex(ctx.store, repo))?.submissions.find((s) => s.commit === commit);
    if (existing) return { pkgid: existing.pkgid, created: false };
    const tgz = await archiveCommit(repoDir(ctx.layout.repos, repo), commit);
    const info = await submitPortpkg(ctx, {
      tgz, submitter, source: { type: 'git', repo, ref, commit }, expectName: repo, expectVersion: versionOfRef(ref) ?? undefined,
    });
    return { pkgid: info.pkgid, created: true };
  });
}

export async function postReceive(ctx: AppContext, req: HookRequest): Promise<HookReply> {
  const messages: string[] = [];
  for (const u of req.updates) {
    if (u.new === ZERO_ID || versionOfRef(u.ref) === null) continue;
    try {
      const { pkgid } = await submitCommit(ctx, req.repo, u.ref, u.new, req.pusher);
      messages.push(`submission ${pkgid} queued: ${pkgurl(ctx, pkgid)}`);
    } catch (err) {
      ctx.log.error({ err, repo: req.repo, ref: u.ref }, 'post-receive: submission failed');
      messages.push(`${u.ref.slice('refs/heads/'.length)}: no submission was made (${(err as Error).message}); it will be retried when the server restarts`);
    }
  }
  return { ok: true, messages };
}
