// What the git hooks ask the server (Gitea's model): pre-receive checks a push against the policy
// in repos/check-push.ts; post-receive turns each accepted version-branch update into a submission.
// Submitting a commit is idempotent: a commit that already has a submission gets it back, so a
// retried hook or the start-up reconciliation never makes a second one. A version branch's tree
// is checked in pre-receive exactly as its submission will be (archive, limits, names, links), so
// an accepted push never leaves a branch whose submission cannot be made.
import { readPortIndex } from '../store/layout/port-index.js';
import { archiveCommit } from '../repos/archive-commit.js';
import { checkPush, type Refusal } from '../repos/check-push.js';
import { existsSync, realpathSync } from 'node:fs';
import { isMorphuxError, MorphuxError, type ErrorCode } from '../domain/errors.js';
import { isZeroId, refusalLine, type HookReply, type HookRequest, type RefUpdate } from '../domain/hook-protocol.js';
import { repoDir } from '../repos/repo-paths.js';
import { versionOfRef } from '../domain/version.js';
import type { AppContext } from './app-context.js';
import { checkPortpkg, pkgurl, submitPortpkg } from './submit-portpkg.js';

/** What the pusher is told about a tree that cannot become a submission (anything else is ours). */
const TREE_REFUSALS: ErrorCode[] = ['too_large', 'unsafe_archive', 'invalid_manifest', 'bad_request', 'name_mismatch', 'version_mismatch'];

/** The refusal of a version-branch commit whose tree would not pass submitPortpkg's checks. */
async function checkTree(ctx: AppContext, req: HookRequest, update: RefUpdate): Promise<Refusal | null> {
  try {
    const gitdir = repoDir(ctx.layout.repos, req.repo);
    const tgz = await archiveCommit(gitdir, update.new, undefined, req.quarantine);
    const manifest = await checkPortpkg(ctx.config.portpkg, tgz, req.repo, versionOfRef(update.ref) ?? undefined);
    ctx.pushes.archives.put(gitdir, update.new, { tgz, manifest });
    return null;
  } catch (e) {
    if (!isMorphuxError(e) || !TREE_REFUSALS.includes(e.code)) throw e;
    return { ref: update.ref, code: e.code, message: `${update.ref.slice('refs/heads/'.length)}: ${e.message}` };
  }
}

/** A hook's request is about a repo of this server, its quarantine inside that repo (not_found,
 *  forbidden otherwise): checked before either hook is answered. */
export function checkHookRequest(ctx: AppContext, req: HookRequest): void {
  const dir = repoDir(ctx.layout.repos, req.repo);
  if (!existsSync(dir)) throw new MorphuxError('not_found', `no repo ${req.repo}`);
  const roots = [dir + '/', realpathSync(dir) + '/'];
  for (const v of Object.values(req.quarantine ?? {})) {
    for (const p of String(v).split(':')) {
      if (p && !roots.some((r) => p.startsWith(r))) throw new MorphuxError('forbidden', 'quarantine outside the repo');
    }
  }
}

export async function preReceive(ctx: AppContext, req: HookRequest): Promise<HookReply> {
  const verdict = await checkPush({ gitdir: repoDir(ctx.layout.repos, req.repo), repoName: req.repo, updates: req.updates, quarantine: req.quarantine ?? undefined });
  const refused = new Set(verdict.refusals.map((r) => r.ref));
  for (const u of req.updates) {
    if (isZeroId(u.new) || versionOfRef(u.ref) === null || refused.has(u.ref)) continue;
    const refusal = await checkTree(ctx, req, u);
    if (refusal) verdict.refusals.push(refusal);
  }
  const ok = verdict.refusals.length === 0;
  if (!ok) ctx.log.info({ repo: req.repo, pusher: req.pusher, refusals: verdict.refusals }, 'push refused');
  return { ok, messages: verdict.refusals.map(refusalLine) };
}

/** The submission of a commit pushed to a version branch, made once. */
export async function submitCommit(ctx: AppContext, repo: string, ref: string, commit: string, submitter: string): Promise<{ pkgid: number; created: boolean }> {
  return ctx.pushes.submitting.run(async () => {
    const existing = (await readPortIndex(ctx.store, repo))?.submissions.find((s) => s.commit === commit);
    if (existing) return { pkgid: existing.pkgid, created: false };
    const gitdir = repoDir(ctx.layout.repos, repo);
    const checked = ctx.pushes.archives.take(gitdir, commit);
    const info = await submitPortpkg(ctx, {
      tgz: checked?.tgz ?? (await archiveCommit(gitdir, commit)), checked: checked?.manifest,
      submitter, source: { type: 'git', repo, ref, commit }, expectName: repo, expectVersion: versionOfRef(ref) ?? undefined,
    });
    return { pkgid: info.pkgid, created: true };
  });
}

export async function postReceive(ctx: AppContext, req: HookRequest): Promise<HookReply> {
  const messages: string[] = [];
  for (const u of req.updates) {
    if (isZeroId(u.new) || versionOfRef(u.ref) === null) continue;
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
