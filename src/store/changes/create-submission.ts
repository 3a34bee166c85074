// Creates a submission: a new pkgid folder with portpkg.tgz, unpacked/, meta/submission_info.json
// and meta/status.json (queued) — which is also the build job — the package's port/common tree and
// its index entry, all in one store commit. The folder is staged in tmp/ and renamed into place,
// so no reader ever sees a half-written submission. The submitter's role (decided by the service)
// is recorded in submission_info.json and the index entry; only a maintainer's or an admin's
// submission becomes the package's face (port-index.ts, takeFace).
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Manifest } from '../../domain/manifest.js';
import { allocatePkgid } from './allocate-pkgid.js';
import { takeFace, updatePortIndex } from '../layout/port-index.js';
import { storePaths } from '../layout/store-paths.js';
import type { Store } from '../tree/store.js';
import { nowIso, type SubmissionInfo, type SubmissionSource, type SubmissionStatus, type SubmitterRole } from '../../domain/submission.js';
import { unpackPortpkg } from '../../portpkg/unpack-portpkg.js';

export interface NewSubmission {
  manifest: Manifest;
  submitter: string;
  /** whether the submitter spoke for the package when submitting (service/submit-portpkg.ts decides) */
  submitterRole: SubmitterRole;
  source: SubmissionSource;
  /** the portpkg .tgz, already checked by inspectPortpkg */
  tgz: Buffer;
}

export async function createSubmission(store: Store, s: NewSubmission): Promise<SubmissionInfo> {
  const { manifest } = s;
  const staging = path.join(store.tmpDir, `sub-${randomBytes(8).toString('hex')}`);
  try {
    await mkdir(path.join(staging, 'pkg', 'meta'), { recursive: true });
    await writeFile(path.join(staging, 'pkg', 'portpkg.tgz'), s.tgz, { mode: 0o444 });
    await unpackPortpkg(s.tgz, path.join(staging, 'pkg', 'unpacked'));
    await cp(path.join(staging, 'pkg', 'unpacked'), path.join(staging, 'common'), { recursive: true, verbatimSymlinks: true });
    const sha256 = createHash('sha256').update(s.tgz).digest('hex');

    return await store.transact(`submit ${manifest.name} ${manifest.version}`, s.submitter, async (tx) => {
      // a counter behind the tree (a state dir restored from an older backup) skips taken pkgids
      let pkgid = await allocatePkgid(store.stateDir);
      while (await store.exists(storePaths.portpkgDir(pkgid))) pkgid = await allocatePkgid(store.stateDir);
      const now = nowIso();
      const info: SubmissionInfo = {
        pkgid,
        name: manifest.name,
        version: manifest.version,
        submitter: s.submitter,
        submitter_role: s.submitterRole,
        submitted_at: now,
        source: s.source,
        sha256,
        size: s.tgz.length,
        description: manifest.description ?? '',
        category: manifest.category ?? null,
        tags: manifest.tags ?? [],
        dependencies: manifest.dependencies ?? {},
        build_dependencies: manifest.build_dependencies ?? {},
      };
      const status: SubmissionStatus = { state: 'queued', reason: null, message: null, updated_at: now, attempts: 0, build: null };
      await writeFile(path.join(staging, 'pkg', 'meta', 'submission_info.json'), JSON.stringify(info, null, 2) + '\n');
      await writeFile(path.join(staging, 'pkg', 'meta', 'status.json'), JSON.stringify(status, null, 2) + '\n');
      await tx.placeDir(path.join(staging, 'pkg'), storePaths.portpkgDir(pkgid));
      await tx.replaceDir(path.join(staging, 'common'), storePaths.common(manifest.name));
      await updatePortIndex(tx, manifest.name, (ix) => {
        takeFace(ix, pkgid, s.submitterRole, info);
        ix.submissions.push({
          pkgid, version: info.version, state: 'queued', reason: null, submitter: info.submitter, submitter_role: s.submitterRole,
          submitted_at: now, updated_at: now, commit: s.source.type === 'git' ? s.source.commit : null, stable: false, tags: [], votes: 0, failed_reports: 0,
          dependencies: info.dependencies,
        });
      });
      return info;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
