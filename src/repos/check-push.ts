// The push policy for version branches (CONTRACT.md, "Git hosting"): a push to
// refs/heads/version-<v> must fast-forward, keep the branch, and carry a package.json whose name is
// the repo's and whose version is <v>. Other refs are accepted. Called by the pre-receive endpoint.
import { isMorphuxError, type ErrorCode } from '../domain/errors.js';
import { parseManifest } from '../domain/manifest.js';
import { isVersion, versionOfRef } from '../domain/version.js';
import { isZeroId, type QuarantineEnv, type RefUpdate } from '../domain/hook-protocol.js';
import { isAncestor, readFileAtCommit } from './read-at-commit.js';
export interface Refusal {
  ref: string;
  code: ErrorCode;
  message: string;
}
export interface PushVerdict {
  ok: boolean;
  refusals: Refusal[];
}
export interface CheckPushInput {
  gitdir: string;
  repoName: string;
  updates: RefUpdate[];
  quarantine?: QuarantineEnv | null;
}

/** What the rules need to know about the pushed objects; the real one reads the quarantine. */
export interface PushFacts {
  isAncestor(old: string, next: string): Promise<boolean>;
  readFile(commit: string, path: string): Promise<Buffer | null>;
}

export async function checkPush(input: CheckPushInput, facts: PushFacts = gitFacts(input)): Promise<PushVerdict> {
  const refusals: Refusal[] = [];
  for (const update of input.updates) {
    const refusal = await checkRefUpdate(update, input.repoName, facts);
    if (refusal) refusals.push(refusal);
  }
  return { ok: refusals.length === 0, refusals };
}

/** The first rule one ref update breaks, or null when it may go in. */
export async function checkRefUpdate(update: RefUpdate, repoName: string, facts: PushFacts): Promise<Refusal | null> {
  const version = versionOfRef(update.ref);
  if (version === null) return null;
  const branch = update.ref.slice('refs/heads/'.length);
  const refuse = (code: ErrorCode, message: string): Refusal => ({ ref: update.ref, code, message: `${branch}: ${message}` });

  if (isZeroId(update.new)) return refuse('branch_deletion', 'version branches cannot be deleted');
  if (!isVersion(version)) return refuse('version_mismatch', `"${version}" is not a version (want dot-separated parts such as 1.2.3)`);
  if (!isZeroId(update.old) && !(await facts.isAncestor(update.old, update.new))) {
    return refuse('non_fast_forward', 'version branches cannot be rewritten (non-fast-forward); push a new commit on top');
  }
  let manifest;
  try {
    manifest = parseManifest(await facts.readFile(update.new, 'package.json'));
  } catch (e) {
    if (isMorphuxError(e, 'invalid_manifest')) return refuse('invalid_manifest', e.message);
    throw e;
  }
  if (manifest.name !== repoName) return refuse('name_mismatch', `package.json says name ${manifest.name}, the repo is ${repoName}`);
  if (manifest.version !== version) return refuse('version_mismatch', `package.json says version ${manifest.version}, the branch is for ${version}`);
  return null;
}

function gitFacts({ gitdir, quarantine }: CheckPushInput): PushFacts {
  return {
    isAncestor: (old, next) => isAncestor(gitdir, old, next, quarantine),
    readFile: (commit, path) => readFileAtCommit(gitdir, commit, path, quarantine),
  };
}
