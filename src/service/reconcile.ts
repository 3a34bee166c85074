// Start-up reconciliation, so that a crash at any point loses no acknowledged work: every
// version-branch head without a submission gets one (a crash between ref update and submission),
// every submission still queued or building goes back on the build queue, and so does every
// rebuild check still queued or running (its index entry's rebuild_pending).
import { listRepos } from '../repos/create-repo.js';
import { versionBranchHeads } from '../repos/list-branches.js';
import { repoDir } from '../repos/repo-paths.js';
import { listIndexedPorts, readPortIndex } from '../store/layout/port-index.js';
import type { AppContext } from './app-context.js';
import { submitCommit } from './handle-push.js';
import { jobOf } from '../domain/worker-protocol.js';

export async function reconcile(ctx: AppContext): Promise<{ submitted: number; requeued: number }> {
  let submitted = 0;
  let requeued = 0;
  for (const repo of await listRepos(ctx.layout.repos)) {
    let heads;
    try {
      heads = await versionBranchHeads(repoDir(ctx.layout.repos, repo));
    } catch (err) {
      ctx.log.warn({ err, repo }, 'cannot read the branches of a repo');
      continue;
    }
    const known = new Set((await readPortIndex(ctx.store, repo))?.submissions.map((s) => s.commit) ?? []);
    for (const h of heads) {
      if (known.has(h.commit)) continue;
      try {
        const r = await submitCommit(ctx, repo, h.ref, h.commit, (await ctx.owners.get(repo))?.maintainers[0] ?? 'morphux');
        if (r.created) submitted++;
      } catch (err) {
        ctx.log.warn({ err, repo, ref: h.ref }, 'a version branch head cannot be submitted');
      }
    }
  }
  for (const name of await listIndexedPorts(ctx.store)) {
    const ix = await readPortIndex(ctx.store, name);
    for (const s of ix?.submissions ?? []) {
      if (s.rebuild_pending) {
        // an arch with no check pending is skipped when its job is claimed
        for (const arch of ctx.config.builder.arches) await ctx.queue.enqueue(jobOf(s.pkgid, arch, 'rebuild'));
        requeued++;
      }
      if (s.state !== 'queued' && s.state !== 'building') continue;
      for (const arch of ctx.config.builder.arches) await ctx.queue.enqueue({ pkgid: s.pkgid, arch });
      requeued++;
    }
  }
  if (submitted || requeued) ctx.log.info({ submitted, requeued }, 'reconciled after start-up');
  return { submitted, requeued };
}
