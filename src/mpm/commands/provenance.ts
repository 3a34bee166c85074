// Build provenance on the client (domain/provenance.ts, the code the server signs with):
// `mpm info --provenance PKGID|PKGURL [--arch A]` shows a build's provenance once verified, and
// `mpm install|upgrade --require-provenance` checks, for each package the plan installs and before
// anything is downloaded or written, that its provenance (GET /api/v1/pkg/<pkgid>/provenance/<arch>)
// is signed by a trusted key, that its subjects are the plan's binaries and manifest (sha256), and
// that every dependency the plan resolves for it is one the build had installed. The trusted keys
// are the mirrors' (--public-key, MPM_PUBLIC_KEYS, "public_keys" in the mpm config: the publishing
// keys of `morphux keys show-public`).
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { isMorphuxError, MorphuxError } from '../../domain/errors.js';
import { checkProvenance, summarize, verifyProvenance, type ProvenanceStatement, type ProvenanceSummary } from '../../domain/provenance.js';
import { parsePublicKey, signingKeyId } from '../../domain/signed-index.js';
import type { MpmClient } from '../client.js';
import type { PlanPackage } from '../install/plan.js';
import { pool } from '../pool.js';
import { submissionArg } from '../submission-arg.js';

/** A provenance file is small (its statement names the dependencies): more is refused. */
const MAX_PROVENANCE_BYTES = 4 << 20;

export interface ProvenanceFlags {
  /** --public-key, repeatable */
  publicKey?: string[];
  /** --require-provenance */
  requireProvenance?: boolean;
}

interface MpmConfig {
  public_keys?: string[];
  require_provenance?: boolean;
}

/** The mpm config file (MPM_CONFIG, else ~/.config/mpm/config.json), as the mirror settings read it. */
async function mpmConfig(env: NodeJS.ProcessEnv): Promise<MpmConfig> {
  const file = env.MPM_CONFIG ?? path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'mpm', 'config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(await readFile(file, 'utf8')) as MpmConfig;
  } catch {
    throw new MorphuxError('bad_request', `${file} is not valid JSON`);
  }
}

/** The trusted keys, as the mirror commands take them: --public-key, else MPM_PUBLIC_KEYS, else the config's public_keys. */
export async function trustedKeys(flags: ProvenanceFlags, env: NodeJS.ProcessEnv = process.env): Promise<Map<string, KeyObject>> {
  const texts = flags.publicKey?.length ? flags.publicKey
    : env.MPM_PUBLIC_KEYS ? env.MPM_PUBLIC_KEYS.split(/[\s,]+/).filter(Boolean)
      : ((await mpmConfig(env)).public_keys ?? []);
  if (!texts.length) throw new MorphuxError('bad_request', 'no trusted public key: pass --public-key ed25519:… (from `morphux keys show-public`), set MPM_PUBLIC_KEYS or "public_keys" in the mpm config');
  const trusted = new Map<string, KeyObject>();
  for (const t of texts) {
    const key = parsePublicKey(t);
    trusted.set(signingKeyId(key), key);
  }
  return trusted;
}

/** Whether installs must check provenance: --require-provenance, MPM_REQUIRE_PROVENANCE=1, or "require_provenance": true in the config. */
export async function provenanceRequired(flags: ProvenanceFlags, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (flags.requireProvenance) return true;
  if (env.MPM_REQUIRE_PROVENANCE !== undefined && env.MPM_REQUIRE_PROVENANCE !== '') return !['0', 'false', 'no'].includes(env.MPM_REQUIRE_PROVENANCE.toLowerCase());
  return (await mpmConfig(env)).require_provenance === true;
}

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
  const trusted = await trustedKeys(o);
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
 * The install check: each package's provenance fetched, verified with a trusted key and compared
 * with the plan (checkProvenance). Throws provenance_missing, provenance_invalid or
 * provenance_mismatch naming the package; nothing has been downloaded or written by then.
 */
export async function checkPlanProvenance(client: MpmClient, packages: readonly PlanPackage[], trusted: ReadonlyMap<string, KeyObject>): Promise<void> {
  await pool(packages, 4, async (p) => {
    const file = await fetchProvenance(client, p.pkgid, p.arch);
    if (!file) throw new MorphuxError('provenance_missing', `${p.name} ${p.version} (pkgid ${p.pkgid}, ${p.arch}) has no provenance; --require-provenance refuses it`, { name: p.name, pkgid: p.pkgid, arch: p.arch });
    let statement: ProvenanceStatement;
    try {
      statement = verifyProvenance(file, trusted).statement;
    } catch (e) {
      if (isMorphuxError(e)) throw new MorphuxError(e.code, `${p.name} ${p.version} (pkgid ${p.pkgid}, ${p.arch}): ${e.message}`, { ...e.data, name: p.name, pkgid: p.pkgid, arch: p.arch });
      throw e;
    }
    checkProvenance(statement, { name: p.name, pkgid: p.pkgid, arch: p.arch, binaries_sha256: p.binaries.sha256, manifest_sha256: p.manifest.sha256, resolved: p.resolved });
  });
}

/**
 * What install and upgrade run before they download anything: null when provenance is not
 * required; with --mirror it is refused (mirrors do not carry provenance yet: the check needs the
 * server's), else the check of the packages the plan changes.
 */
export async function provenanceCheck(client: () => MpmClient, flags: ProvenanceFlags, fromMirror: boolean): Promise<((packages: readonly PlanPackage[]) => Promise<void>) | null> {
  if (!(await provenanceRequired(flags))) return null;
  if (fromMirror) throw new MorphuxError('bad_request', '--require-provenance checks the server\'s provenance; it cannot be used with --mirror yet');
  const trusted = await trustedKeys(flags);
  return (packages) => checkPlanProvenance(client(), packages, trusted);
}
