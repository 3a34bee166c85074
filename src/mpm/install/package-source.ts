// Where `mpm install` and `mpm upgrade` get a plan, the manifests and the archives: the server
// (its install plan, commands/install.ts serverSource) or a signed mirror (mirror-install.ts).
// Everything after, conflicts, the question, the transaction, the database, is the same.
import type { FileEntry, Db } from '../db.js';
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
  /** the command succeeded (the transaction is applied, or there was nothing to do) */
  succeeded(): Promise<void>;
  close(): void;
}
