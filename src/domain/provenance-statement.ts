// Signed build provenance, the statement: for each good build (one arch of one submission) an
// in-toto Statement v1 whose predicate is SLSA Provenance v1, carried in a DSSE envelope (dsse.ts)
// signed (Ed25519) with the publishing key, under the key ids of the signed index (signingKeyId).
// What the statement says: the subjects are the build's binaries archive and its manifest (their
// sha256 as committed under binaries/<arch>/); the build definition names the package, its source
// (repo and commit, and the portpkg.tgz snapshot that was built), the VM's base image, kernel and
// initrd, and every dependency installed into the VM with its binaries' sha256; the run details
// name the builder and when it ran. The server builds and signs it (store/changes/update-status.ts);
// mpm verifies it here and compares it with an install plan (provenance-check.ts). Pure: no I/O.
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { envelopeSchema, invalidProvenance, signEnvelope, verifyEnvelope, type DsseKey } from './dsse.js';
import type { SubmissionSource } from './submission.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** the DSSE payloadType of an in-toto statement */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** What a Morphux build is: a package's build and install steps in a fresh QEMU VM without network. */
export const MORPHUX_BUILD_TYPE = 'https://morphux.org/provenance/build/qemu-vm/v1';
/** The file beside a good build's binaries (binaries/<arch>/), committed with them. */
export const PROVENANCE_FILE = 'provenance.dsse.json';
/** A provenance file is small (its statement names the dependencies): a client refuses more. */
export const MAX_PROVENANCE_BYTES = 4 << 20;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** sha256 (hex) of the VM's inputs a build booted: the base root image, the kernel and the initrd. */
export interface VmImageDigests {
  root_image: string;
  kernel: string;
  initrd: string;
}
export const vmImageDigestsSchema = z.object({ root_image: sha256Hex, kernel: sha256Hex, initrd: sha256Hex });

/** The signing half of a publishing key (publish/publish-keys.ts SigningKey fits). */
export type ProvenanceKey = DsseKey;

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

/** The statement as a provenance file's text: a DSSE envelope of its JSON, signed unless key is null. */
export function provenanceEnvelope(statement: ProvenanceStatement, key: ProvenanceKey | null): string {
  return JSON.stringify(signEnvelope(IN_TOTO_PAYLOAD_TYPE, JSON.stringify(statement), key), null, 2) + '\n';
}

/** A provenance file checked: signed by a trusted key (dsse.ts verifyEnvelope), its payload a Morphux SLSA statement. */
export function verifyProvenance(text: string | Buffer, trusted: ReadonlyMap<string, KeyObject>): { statement: ProvenanceStatement; keyId: string } {
  const { payload, keyId } = verifyEnvelope(text, IN_TOTO_PAYLOAD_TYPE, trusted);
  let statement: ProvenanceStatement;
  try {
    statement = statementSchema.parse(JSON.parse(payload.toString('utf8')));
  } catch {
    throw invalidProvenance('the signed payload is not an in-toto statement with SLSA provenance v1', 'malformed');
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
