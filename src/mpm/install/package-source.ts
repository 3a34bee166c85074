// Where `mpm install` and `mpm upgrade` get a plan, the manifests and the archives: the server
// (its install plan, commands/install.ts serverSource) or a signed mirror (mirror-install.ts).
// Everything after, conflicts, the question, the transaction, the database, is the same.
import type { ProvenanceStatement } from '../../domain/provenance-statement.js';
import type { FileEntry, Db } from '../db.js';
import type { MpmSettings } from '../mpm-settings.js';
import type { Plan, PlanPackage } from './plan.js';
import type { Spec } from './spec.js';

export interface PackageSource {
  /** a command line's spec, checked before anything is fetched */
  spec(text: string): Spec;
  /** the plan (docs/install-plan.md's shape) for these specs, with what is installed */
  plan(queries: string[], arch: string, installed: Db): Promise<Plan>;
  /** a package's manifest: fetched, its sha256 the plan's, its entries checked (manifest.ts) */
  manifest(p: PlanPackage): Promise<FileEntry[]>;
  /** fetches and checks each package's archive into `dir`: the file of each, in order (a tar.gz or
   *  a plain tar: extract.ts scanArchive reads both) */
  archives(ps: PlanPackage[], dir: string, o: { progress: boolean }): Promise<string[]>;
  /** for --require-provenance: where each package's signed provenance comes from, verified with
   *  the keys `trust` pins (commands/provenance.ts checks it against the plan) */
  provenance(trust: MpmSettings): ProvenanceSource;
  /** the command succeeded (the transaction is applied, or there was nothing to do) */
  succeeded(): Promise<void>;
  close(): void;
}

/** A package's signed build provenance as a source has it (commands/provenance.ts compares it with the plan). */
export interface ProvenanceSource {
  /** its statement, the envelope's signature verified by a trusted key (provenance_invalid
   *  otherwise); null when the source has none for the package */
  verified(p: PlanPackage): Promise<ProvenanceStatement | null>;
  /** the sha256 the statement's binaries subject must be, that of the build's archive as committed
   *  (files.tar.gz): a server's plan downloads that very file; a mirror's artifact is its tar
   *  recompressed, whose every file is checked against the manifest, the other subject */
  binariesSha256(p: PlanPackage): string;
}
