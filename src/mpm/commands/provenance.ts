// Build provenance on the client (domain/provenance-statement.ts and provenance-check.ts, the code
// the server signs with): `mpm info --provenance PKGID|PKGURL [--arch A]` shows a build's provenance
// once verified, and `mpm install|upgrade --require-provenance` (from the server or --mirror) and
// `mpm get --mirror --require-provenance` check, for each package, before any archive is
// downloaded or anything written, that its provenance is signed by a trusted key, that its
// subjects are the binaries and manifest the plan fetches (sha256), and, for an install, that
// every dependency the plan resolves for it is one the build had installed. The provenance comes
// from the server (GET /api/v1/pkg/<pkgid>/provenance/<arch>, serverProvenance) or from the mirror
// (the file its signed index names, install/mirror-install.ts); the trusted keys and the switch
// are mpm's settings (mpm-settings.ts: --public-key, MPM_PUBLIC_KEYS, "public_keys";
// --require-provenance, MPM_REQUIRE_PROVENANCE, "require_provenance").
import type { KeyObject } from 'node:crypto';
import { isMorphuxError, MorphuxError } from '../../domain/errors.js';
import { checkProvenance, summarize, type ProvenanceExpectation, type ProvenanceSummary } from '../../domain/provenance-check.js';
import { MAX_PROVENANCE_BYTES, verifyProvenance, type ProvenanceStatement } from '../../domain/provenance-statement.js';
import type { MpmClient } from '../client.js';
import type { PackageSource, ProvenanceSource } from '../install/package-source.js';
import type { PlanPackage } from '../install/plan.js';
import { mpmSettings, trustedKeyMap, type TrustFlags } from '../mpm-settings.js';
import { pool } from '../pool.js';
import { submissionArg } from '../submission-arg.js';

/** --public-key (repeatable) and --require-provenance */
export type ProvenanceFlags = Pick<TrustFlags, 'publicKey' | 'requireProvenance'>;

/** The provenance file of a build as the server serves it; null when it has none (404). */
export async function fetchProvenance(client: MpmClient, pkgid: number, arch: string): Promise<Buffer | null> {
  try {
    const res = await client.request('GET', `/api/v1/pkg/${pkgid}/provenance/${encodeURIComponent(arch)}`);
    return await res.buffer(MAX_PROVENANCE_BYTES, 'the provenance');
  } catch (e) {
    if (isMorphuxError(e, 'not_found')) return null;
    throw e;
  }
}

/** The server as the source of provenance: its file for the build, verified with the pinned keys; the
 *  plan's binaries are the build's archive as committed, the statement's subject. */
export function serverProvenance(client: MpmClient, trusted: ReadonlyMap<string, KeyObject>): ProvenanceSource {
  return {
    verified: async (p) => {
      const file = await fetchProvenance(client, p.pkgid, p.arch);
      return file && verifyProvenance(file, trusted).statement;
    },
    binariesSha256: (p) => p.binaries.sha256,
  };
}

export interface ShownProvenance {
  pkgid: number;
  arch: string;
  verified: true;
  key_id: string;
  summary: ProvenanceSummary;
  statement: ProvenanceStatement;
}

/** `mpm info --provenance`: the build's provenance, verified with a trusted key. */
export async function mpmInfoProvenance(client: MpmClient, what: string, o: ProvenanceFlags & { arch: string }): Promise<{ value: ShownProvenance; text: () => string }> {
  const pkgid = submissionArg(client, what);
  const trusted = trustedKeyMap((await mpmSettings(o)).publicKeys);
  const file = await fetchProvenance(client, pkgid, o.arch);
  if (!file) throw new MorphuxError('provenance_missing', `pkgid ${pkgid} has no provenance for ${o.arch} (not built good for it, or built before provenance was recorded)`, { pkgid, arch: o.arch });
  const { statement, keyId } = verifyProvenance(file, trusted);
  const s = summarize(statement);
  if (s.pkgid !== pkgid || s.arch !== o.arch) {
    throw new MorphuxError('provenance_mismatch', `the server answered the provenance of pkgid ${s.pkgid} ${s.arch} for pkgid ${pkgid} ${o.arch}`, { pkgid, arch: o.arch });
  }
  const value: ShownProvenance = { pkgid, arch: o.arch, verified: true, key_id: keyId, summary: s, statement };
  return { value, text: () => describeProvenance(s, keyId) };
}

function describeProvenance(s: ProvenanceSummary, keyId: string): string {
  const vm = s.vm.root_image ? [`  vm image  root ${s.vm.root_image}`, `            kernel ${s.vm.kernel ?? '-'}`, `            initrd ${s.vm.initrd ?? '-'}`] : ['  vm image  (not reported)'];
  return [
    `${s.name} ${s.version} (pkgid ${s.pkgid}, ${s.arch}): provenance verified, signed by key ${keyId}`,
    `  binaries  sha256 ${s.binaries_sha256 ?? '-'}`,
    `  manifest  sha256 ${s.manifest_sha256 ?? '-'}`,
    `  source    ${s.source ? `${s.source.uri} ${Object.entries(s.source.digest).map(([k, v]) => `${k}:${v}`).join(' ')}` : '-'}`,
    ...vm,
    ...(s.dependencies.length
      ? s.dependencies.map((d, i) => `${i ? '           ' : '  deps     '} ${d.name} ${d.version ?? ''} (pkgid ${d.pkgid}) sha256 ${d.binaries_sha256 ?? '-'}`)
      : ['  deps      none installed into the VM']),
    `  builder   ${s.builder_id}`,
    `  ran       ${s.started_on ?? '?'} .. ${s.finished_on ?? '?'}`,
  ].join('\n');
}

/**
 * One package's check: its provenance (`verified`: fetched and verified by the source) compared
 * with what will be installed or written (checkProvenance, the one comparison). Throws
 * provenance_missing, or the source's provenance_invalid, or provenance_mismatch, each naming the
 * package.
 */
export async function checkPackageProvenance(p: Pick<PlanPackage, 'name' | 'version' | 'pkgid' | 'arch'>, verified: () => Promise<ProvenanceStatement | null>, want: Pick<ProvenanceExpectation, 'binaries_sha256' | 'manifest_sha256' | 'resolved'>): Promise<ProvenanceSummary> {
  const who = `${p.name} ${p.version} (pkgid ${p.pkgid}, ${p.arch})`;
  let statement: ProvenanceStatement | null;
  try {
    statement = await verified();
  } catch (e) {
    if (isMorphuxError(e)) throw new MorphuxError(e.code, `${who}: ${e.message}`, { ...e.data, name: p.name, pkgid: p.pkgid, arch: p.arch });
    throw e;
  }
  if (!statement) throw new MorphuxError('provenance_missing', `${who} has no provenance; --require-provenance refuses it`, { name: p.name, pkgid: p.pkgid, arch: p.arch });
  return checkProvenance(statement, { name: p.name, pkgid: p.pkgid, arch: p.arch, ...want });
}

/**
 * The install check: each package's provenance from `from`, compared with the plan (its manifest's
 * sha256, its resolved dependencies; its binaries as the source names the build's archive).
 * Nothing has been downloaded but manifests, nor written, by then.
 */
export async function checkPlanProvenance(packages: readonly PlanPackage[], from: ProvenanceSource): Promise<void> {
  await pool(packages, 4, (p) => checkPackageProvenance(p, () => from.verified(p), { binaries_sha256: from.binariesSha256(p), manifest_sha256: p.manifest.sha256, resolved: p.resolved }));
}

/**
 * What install and upgrade run before they download any archive: null when provenance is not
 * required (flag, environment, config), else the check of the packages the plan changes, with
 * provenance from the source the plan comes from (the server's, or the mirror's). bad_request
 * at once when no key is trusted.
 */
export async function provenanceCheck(source: Pick<PackageSource, 'provenance'>, flags: TrustFlags): Promise<((packages: readonly PlanPackage[]) => Promise<void>) | null> {
  const settings = await mpmSettings(flags);
  if (!settings.requireProvenance) return null;
  const from = source.provenance(settings);
  return (packages) => checkPlanProvenance(packages, from);
}
