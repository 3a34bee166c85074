// Signed build provenance: for each good build (one arch of one submission) an in-toto Statement v1
// whose predicate is SLSA Provenance v1, carried in a DSSE envelope signed (Ed25519) with the
// publishing key, under the key ids of the signed index (signingKeyId). What the statement says:
// the subjects are the build's binaries archive and its manifest (their sha256 as committed under
// binaries/<arch>/); the build definition names the package, its source (repo and commit, and the
// portpkg.tgz snapshot that was built), the VM's base image, kernel and initrd, and every
// dependency installed into the VM with its binaries' sha256; the run details name the builder and
// when it ran. The server builds and signs it (store/changes/update-status.ts) and mpm checks it
// (`mpm info --provenance`, `mpm install --require-provenance`) with this same code. Pure: no I/O.
//
// DSSE (https://github.com/secure-systems-lab/dsse): the signature covers PAE(payloadType,
// payload) = "DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload, never the JSON of the
// envelope; PAE's "DSSEv1 " prefix keeps these signatures apart from the index's, the artifacts'
// and the key rotations' (each of which starts with its own context string).
import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { MorphuxError } from './errors.js';
import type { SubmissionSource } from './submission.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** the DSSE payloadType of an in-toto statement */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** What a Morphux build is: a package's build and install steps in a fresh QEMU VM without network. */
export const MORPHUX_BUILD_TYPE = 'https://morphux.org/provenance/build/qemu-vm/v1';
/** The file beside a good build's binaries (binaries/<arch>/), committed with them. */
export const PROVENANCE_FILE = 'provenance.dsse.json';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** sha256 (hex) of the VM's inputs a build booted: the base root image, the kernel and the initrd. */
export interface VmImageDigests {
  root_image: string;
  kernel: string;
  initrd: string;
}
export const vmImageDigestsSchema = z.object({ root_image: sha256Hex, kernel: sha256Hex, initrd: sha256Hex });

/** The signing half of a publishing key (publish/publish-keys.ts SigningKey fits). */
export interface ProvenanceKey {
  /** signingKeyId of its public half (domain/signed-index.ts) */
  id: string;
  privateKey: KeyObject;
}

/** What the one who ran a build tells about the run (the rest comes from the store). */
export interface ProvenanceRun {
  /** the instance's base URL: the URIs of the statement are under it */
  origin: string;
  /** runDetails.builder.id: which builder ran it (the embedded worker, a remote worker's account) */
  builder_id: string;
  started_on?: string | null;
  finished_on?: string | null;
  /** the VM's inputs, as the runner reported them; absent when it did not */
  vm?: VmImageDigests | null;
  /** signs the statement; null: the instance has no publishing key and the envelope is unsigned */
  key: ProvenanceKey | null;
}

/** One dependency installed into the VM before the build. */
export interface ProvenanceDependency {
  pkgid: number;
  name: string;
  version: string;
  /** sha256 of its binaries/<arch>/files.tar.gz (null only when the store lacks them) */
  binaries_sha256: string | null;
  manifest_sha256: string | null;
}

/** Every fact a statement is made of. */
export interface ProvenanceFacts {
  origin: string;
  pkgid: number;
  name: string;
  version: string;
  arch: string;
  source: SubmissionSource;
  /** sha256 of portpkg.tgz, the snapshot built */
  portpkg_sha256: string;
  /** runtime and build dependency ranges as declared */
  dependencies: Record<string, string>;
  build_dependencies: Record<string, string>;
  binaries_sha256: string;
  manifest_sha256: string;
  resolved: ProvenanceDependency[];
  vm: VmImageDigests | null;
  builder_id: string;
  invocation_id: string;
  started_on: string | null;
  finished_on: string | null;
}

// ---------------------------------------------------------------------------------------------
// The statement

const resourceSchema = z.object({
  name: z.string().optional(),
  uri: z.string().optional(),
  digest: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
}).passthrough();
export type ResourceDescriptor = z.infer<typeof resourceSchema>;

/** What a Morphux statement must hold for a client to check it (other fields pass through). */
export const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(resourceSchema.extend({ name: z.string(), digest: z.record(z.string(), z.string()) })).min(1),
  predicateType: z.literal(SLSA_PROVENANCE_V1),
  predicate: z.object({
    buildDefinition: z.object({
      buildType: z.string(),
      externalParameters: z.object({
        package: z.object({ name: z.string(), version: z.string(), pkgid: z.number().int().positive() }).passthrough(),
        arch: z.string(),
      }).passthrough(),
      internalParameters: z.unknown().optional(),
      resolvedDependencies: z.array(resourceSchema).default([]),
    }).passthrough(),
    runDetails: z.object({
      builder: z.object({ id: z.string() }).passthrough(),
      metadata: z.object({ invocationId: z.string().optional(), startedOn: z.string().optional(), finishedOn: z.string().optional() }).passthrough().optional(),
    }).passthrough(),
  }).passthrough(),
}).passthrough();
export type ProvenanceStatement = z.infer<typeof statementSchema>;

/** Subject names: the files of binaries/<arch>/ they are. */
export const SUBJECT_BINARIES = 'files.tar.gz';
export const SUBJECT_MANIFEST = 'manifest.json';

const base = (origin: string) => origin.replace(/\/+$/, '');

/** The in-toto statement (SLSA Provenance v1) of one good build. */
export function buildStatement(f: ProvenanceFacts): ProvenanceStatement {
  const o = base(f.origin);
  const binariesUrl = `${o}/pkg/${f.pkgid}/binaries/${f.arch}`;
  const source = f.source.type === 'git'
    ? { repo: `${o}/${f.source.repo}.git`, ref: f.source.ref, commit: f.source.commit }
    : { upload: f.source.filename };
  const deps: ResourceDescriptor[] = [];
  if (f.source.type === 'git') {
    deps.push({ name: 'source', uri: `git+${o}/${f.source.repo}.git@${f.source.ref}`, digest: { gitCommit: f.source.commit }, annotations: { kind: 'source' } });
  }
  deps.push({ name: 'portpkg.tgz', uri: `${o}/pkg/${f.pkgid}`, digest: { sha256: f.portpkg_sha256 }, annotations: { kind: 'source' } });
  if (f.vm) {
    deps.push(
      { name: 'root.ext4', uri: `morphux:vm/${f.arch}/root-image`, digest: { sha256: f.vm.root_image }, annotations: { kind: 'vm' } },
      { name: 'vmlinux', uri: `morphux:vm/${f.arch}/kernel`, digest: { sha256: f.vm.kernel }, annotations: { kind: 'vm' } },
      { name: 'initrd.cpio.gz', uri: `morphux:vm/${f.arch}/initrd`, digest: { sha256: f.vm.initrd }, annotations: { kind: 'vm' } },
    );
  }
  for (const d of f.resolved) {
    deps.push({
      name: d.name, uri: `${o}/pkg/${d.pkgid}/binaries/${f.arch}`,
      ...(d.binaries_sha256 ? { digest: { sha256: d.binaries_sha256 } } : {}),
      annotations: { kind: 'dependency', pkgid: d.pkgid, version: d.version, ...(d.manifest_sha256 ? { manifest_sha256: d.manifest_sha256 } : {}) },
    });
  }
  const metadata: Record<string, string> = { invocationId: f.invocation_id };
  if (f.started_on) metadata.startedOn = f.started_on;
  if (f.finished_on) metadata.finishedOn = f.finished_on;
  return {
    _type: STATEMENT_TYPE,
    subject: [
      { name: SUBJECT_BINARIES, uri: binariesUrl, digest: { sha256: f.binaries_sha256 } },
      { name: SUBJECT_MANIFEST, uri: `${binariesUrl}/manifest`, digest: { sha256: f.manifest_sha256 } },
    ],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: MORPHUX_BUILD_TYPE,
        externalParameters: {
          package: { name: f.name, version: f.version, pkgid: f.pkgid },
          arch: f.arch,
          source,
          dependencies: f.dependencies,
          build_dependencies: f.build_dependencies,
        },
        resolvedDependencies: deps,
      },
      runDetails: { builder: { id: f.builder_id }, metadata },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DSSE

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

const b64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/);
const envelopeSchema = z.object({
  payload: b64,
  payloadType: z.string(),
  signatures: z.array(z.object({ keyid: z.string().default(''), sig: b64 }).passthrough()),
}).passthrough();

/** DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body (LEN: bytes, ASCII decimal). */
export function pae(payloadType: string, payload: Buffer | string): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const body = Buffer.from(payload);
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

/** An envelope for `payload`, signed with `key` (Ed25519 over its PAE); no key: unsigned (no signatures). */
export function signEnvelope(payloadType: string, payload: Buffer | string, key: ProvenanceKey | null): DsseEnvelope {
  const body = Buffer.from(payload);
  const signatures = key ? [{ keyid: key.id, sig: sign(null, pae(payloadType, body), key.privateKey).toString('base64') }] : [];
  return { payload: body.toString('base64'), payloadType, signatures };
}

/** The statement as a provenance file's text: a DSSE envelope of its JSON, signed unless key is null. */
export function provenanceEnvelope(statement: ProvenanceStatement, key: ProvenanceKey | null): string {
  return JSON.stringify(signEnvelope(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement), key), null, 2) + '\n';
}

const invalid = (message: string, reason: string, data: Record<string, unknown> = {}) =>
  new MorphuxError('provenance_invalid', message, { reason, ...data });

/**
 * Checks an envelope: well-formed, of `payloadType`, with a signature by a trusted key that
 * verifies over the PAE. Returns the payload's bytes and the key that verified it; throws
 * provenance_invalid (data.reason: malformed, unsigned, unknown_key, signature).
 */
export function verifyEnvelope(text: string | Buffer, payloadType: string, trusted: ReadonlyMap<string, KeyObject>): { payload: Buffer; keyId: string } {
  let env: z.infer<typeof envelopeSchema>;
  try {
    env = envelopeSchema.parse(JSON.parse(String(text)));
  } catch {
    throw invalid('the provenance is not a DSSE envelope', 'malformed');
  }
  if (env.payloadType !== payloadType) throw invalid(`the envelope's payloadType is ${JSON.stringify(env.payloadType)}, not ${payloadType}`, 'malformed');
  if (!env.signatures.length) throw invalid('the provenance is not signed (the instance had no publishing key when it was recorded)', 'unsigned');
  const payload = Buffer.from(env.payload, env.payload.includes('-') || env.payload.includes('_') ? 'base64url' : 'base64');
  const message = pae(env.payloadType, payload);
  const ids = env.signatures.map((s) => s.keyid);
  for (const s of env.signatures) {
    // a signature without a key id is tried with every trusted key (DSSE: keyid is only a hint)
    const keys: Array<[string, KeyObject]> = s.keyid ? (trusted.has(s.keyid) ? [[s.keyid, trusted.get(s.keyid)!]] : []) : [...trusted];
    for (const [id, key] of keys) {
      let ok = false;
      try {
        ok = verify(null, message, key, Buffer.from(s.sig, 'base64'));
      } catch { /* malformed signature bytes: not valid */ }
      if (ok) return { payload, keyId: id };
    }
  }
  if (!env.signatures.some((s) => !s.keyid || trusted.has(s.keyid))) {
    throw invalid(`the provenance is signed by key ${ids.join(', ')}, which is not trusted`, 'unknown_key', { key_ids: ids });
  }
  throw invalid(`the provenance signature does not verify with key ${ids.join(', ')}`, 'signature', { key_ids: ids });
}

/** A provenance file checked: signed by a trusted key, its payload a Morphux SLSA statement. */
export function verifyProvenance(text: string | Buffer, trusted: ReadonlyMap<string, KeyObject>): { statement: ProvenanceStatement; keyId: string } {
  const { payload, keyId } = verifyEnvelope(text, IN_TOTO_PAYLOAD_TYPE, trusted);
  let statement: ProvenanceStatement;
  try {
    statement = statementSchema.parse(JSON.parse(payload.toString('utf8')));
  } catch {
    throw invalid('the signed payload is not an in-toto statement with SLSA provenance v1', 'malformed');
  }
  return { statement, keyId };
}

/** The envelope's statement without checking any signature (to show what an unverified file says). */
export function readUnverified(text: string | Buffer): { statement: ProvenanceStatement | null; keyIds: string[] } {
  try {
    const env = envelopeSchema.parse(JSON.parse(String(text)));
    const r = statementSchema.safeParse(JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')));
    return { statement: r.success ? r.data : null, keyIds: env.signatures.map((s) => s.keyid) };
  } catch {
    return { statement: null, keyIds: [] };
  }
}

// ---------------------------------------------------------------------------------------------
// What a client compares

/** What a statement says of the build, as a client compares it with an install plan. */
export interface ProvenanceSummary {
  name: string;
  version: string;
  pkgid: number;
  arch: string;
  binaries_sha256: string | null;
  manifest_sha256: string | null;
  /** the dependencies installed into the VM, by pkgid */
  dependencies: Array<{ pkgid: number; name: string; version: string | null; binaries_sha256: string | null }>;
  source: { uri: string; digest: Record<string, string> } | null;
  vm: Partial<VmImageDigests>;
  builder_id: string;
  started_on: string | null;
  finished_on: string | null;
}

const kindOf = (d: ResourceDescriptor): unknown => (d.annotations as Record<string, unknown> | undefined)?.kind;

export function summarize(s: ProvenanceStatement): ProvenanceSummary {
  const subject = (name: string) => s.subject.find((x) => x.name === name)?.digest.sha256 ?? null;
  const def = s.predicate.buildDefinition;
  const deps = def.resolvedDependencies ?? [];
  const vmDigest = (name: string) => deps.find((d) => kindOf(d) === 'vm' && d.name === name)?.digest?.sha256;
  const vm: Partial<VmImageDigests> = {};
  const [root, kernel, initrd] = [vmDigest('root.ext4'), vmDigest('vmlinux'), vmDigest('initrd.cpio.gz')];
  if (root) vm.root_image = root;
  if (kernel) vm.kernel = kernel;
  if (initrd) vm.initrd = initrd;
  const src = deps.find((d) => kindOf(d) === 'source' && d.digest?.gitCommit) ?? deps.find((d) => kindOf(d) === 'source');
  return {
    ...def.externalParameters.package,
    arch: def.externalParameters.arch,
    binaries_sha256: subject(SUBJECT_BINARIES),
    manifest_sha256: subject(SUBJECT_MANIFEST),
    dependencies: deps.filter((d) => kindOf(d) === 'dependency').flatMap((d) => {
      const a = d.annotations as Record<string, unknown>;
      return typeof a.pkgid === 'number' ? [{ pkgid: a.pkgid, name: d.name ?? '', version: typeof a.version === 'string' ? a.version : null, binaries_sha256: d.digest?.sha256 ?? null }] : [];
    }),
    source: src ? { uri: src.uri ?? '', digest: src.digest ?? {} } : null,
    vm,
    builder_id: s.predicate.runDetails.builder.id,
    started_on: s.predicate.runDetails.metadata?.startedOn ?? null,
    finished_on: s.predicate.runDetails.metadata?.finishedOn ?? null,
  };
}

/** What an install plan says of one package it installs. */
export interface ProvenanceExpectation {
  name: string;
  pkgid: number;
  arch: string;
  binaries_sha256: string;
  manifest_sha256: string;
  /** name → pkgid the plan resolves the package's runtime dependencies to */
  resolved: Record<string, number>;
}

/**
 * Compares a verified statement with what a plan installs: the same pkgid and arch, the subjects'
 * sha256 those of the binaries and manifest the plan fetches, and each dependency the plan
 * resolves for the package one the build had installed (the same pkgid: the binaries run with
 * what they were built against). Throws provenance_mismatch naming the first difference.
 */
export function checkProvenance(s: ProvenanceStatement, want: ProvenanceExpectation): ProvenanceSummary {
  const got = summarize(s);
  const who = `${want.name} (pkgid ${want.pkgid}, ${want.arch})`;
  const mismatch = (what: string, data: Record<string, unknown>) =>
    new MorphuxError('provenance_mismatch', `the provenance of ${who} does not match the install plan: ${what}`, { name: want.name, pkgid: want.pkgid, arch: want.arch, ...data });
  if (got.pkgid !== want.pkgid || got.arch !== want.arch) throw mismatch(`it is the provenance of pkgid ${got.pkgid} ${got.arch}`, { field: 'package' });
  if (got.binaries_sha256 !== want.binaries_sha256) throw mismatch(`its binaries are sha256 ${got.binaries_sha256}, the plan's ${want.binaries_sha256}`, { field: 'binaries' });
  if (got.manifest_sha256 !== want.manifest_sha256) throw mismatch(`its manifest is sha256 ${got.manifest_sha256}, the plan's ${want.manifest_sha256}`, { field: 'manifest' });
  const built = new Set(got.dependencies.map((d) => d.pkgid));
  for (const [name, pkgid] of Object.entries(want.resolved)) {
    if (!built.has(pkgid)) {
      const had = got.dependencies.filter((d) => d.name === name).map((d) => d.pkgid);
      throw mismatch(`the plan installs ${name} pkgid ${pkgid}, the build had ${had.length ? `pkgid ${had.join(', ')}` : `no ${name}`}`, { field: 'dependencies', dependency: name, plan_pkgid: pkgid, built_pkgids: had });
    }
  }
  return got;
}
