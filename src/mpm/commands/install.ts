// `mpm install SPEC…` and `mpm upgrade [NAME…]`: ask the server's plan (with what is installed),
// fetch and check the manifests of what changes, refuse conflicts, show the plan and ask, download
// and check the archives, then apply it all as one transaction. With --mirror the plan, manifests
// and archives come from a signed mirror instead (install/mirror-install.ts, loaded only then);
// the rest is the same.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../../domain/errors.js';
import type { PackageRecord, Db } from '../db.js';
import type { MirrorFlags } from '../mirror-index.js';
import { readDb } from '../db.js';
import { downloadAll, downloadDir } from '../install/download.js';
import { scanArchive } from '../install/extract.js';
import { fetchManifest } from '../install/manifest.js';
import type { PackageSource } from '../install/package-source.js';
import { fetchPlan, type Plan, type PlanPackage } from '../install/plan.js';
import { parseSpec } from '../install/spec.js';
import { compareVersions } from '../../domain/version.js';
import { confirm, describe, type ChangeLine } from '../install/summary.js';
import { pool } from '../pool.js';
import { openRoot, type RootSession } from '../session.js';
import { apply, newTxid, preview, type ApplyInput } from './apply.js';
import { hostArch, type CommandContext } from './context.js';
import { trustedKeyMap } from '../mpm-settings.js';
import { provenanceCheck, serverProvenance, type ProvenanceFlags } from './provenance.js';

/** The server as a package source: its install plan, manifests and archives (tar.gz). */
function serverSource(ctx: CommandContext): PackageSource {
  const client = ctx.client();
  return {
    spec: (t) => parseSpec(client, t),
    plan: (queries, arch, installed) => fetchPlan(client, queries, arch, installed),
    manifest: (p) => fetchManifest(client, p),
    archives: async (ps, dir, o) => {
      const items = ps.map((p) => ({ label: `${p.name} ${p.version}`, url: p.binaries.url, size: p.binaries.size, sha256: p.binaries.sha256, file: path.join(dir, `${p.pkgid}.tar.gz`) }));
      await downloadAll(client, items, o);
      return items.map((i) => i.file);
    },
    provenance: (trust) => serverProvenance(client, trustedKeyMap(trust.publicKeys)),
    succeeded: async () => {},
    close: () => {},
  };
}

/** The server, or with --mirror a signed mirror (its module loaded only then: it starts the codecs). */
async function sourceFor(ctx: CommandContext, mirror: MirrorFlags | undefined): Promise<PackageSource> {
  if (mirror?.mirror === undefined) return serverSource(ctx);
  const { mirrorPackageSource } = await import('../install/mirror-install.js');
  return mirrorPackageSource(mirror);
}

export interface InstallOptions {
  overwrite: boolean;
  arch?: string;
  /** --mirror [URL] and its trust settings: install from a signed mirror */
  mirror?: MirrorFlags;
  /** --require-provenance and the trusted keys (commands/provenance.ts) */
  provenance?: ProvenanceFlags;
}

/** Runs `f` with the source the options name, closed after whatever happens. */
async function withSource(ctx: CommandContext, o: InstallOptions, f: (source: PackageSource) => Promise<void>): Promise<void> {
  const source = await sourceFor(ctx, o.mirror);
  try {
    await f(source);
  } finally {
    source.close();
  }
}

export const mpmInstall = (ctx: CommandContext, specs: string[], o: InstallOptions): Promise<void> =>
  withSource(ctx, o, (source) => install(ctx, source, specs, o));

async function install(ctx: CommandContext, source: PackageSource, specs: string[], o: InstallOptions): Promise<void> {
  const check = await provenanceCheck(source, o.provenance ?? {});
  const parsed = specs.map((t) => source.spec(t));
  const s = await openRoot(ctx.root, { write: true });
  const db = await readDb(s.root, s.layout);
  const plan = await source.plan(parsed.map((p) => p.query), o.arch ?? hostArch(), db);
  // the spec each asked-for package keeps (what upgrade asks for later)
  const asked = new Map<string, string>();
  for (const p of parsed) {
    const name = p.name ?? [...plan.packages, ...(plan.unchanged ?? [])].find((x) => x.pkgid === p.pkgid)?.name
      ?? [...db.values()].find((r) => r.pkgid === p.pkgid)?.name;
    if (!name || !(plan.packages.some((x) => x.name === name) || plan.unchanged?.some((x) => x.name === name) || db.has(name))) {
      throw new MorphuxError('bad_request', `the server's install plan is invalid: it leaves out ${p.query}`);
    }
    asked.set(name, p.name ? p.query : name);
  }
  await transact(ctx, source, s, db, plan, {
    command: `install ${specs.join(' ')}`, overwrite: o.overwrite, check,
    explicit: (name, old) => asked.has(name) || (old?.explicit ?? false),
    spec: (name, old) => asked.get(name) ?? old?.spec ?? name,
    marks: [...asked].flatMap(([name, spec]) => {
      const old = db.get(name);
      return old && (!old.explicit || old.spec !== spec) ? [{ ...old, explicit: true, spec }] : [];
    }),
  });
}

export const mpmUpgrade = (ctx: CommandContext, names: string[], o: InstallOptions): Promise<void> =>
  withSource(ctx, o, (source) => upgrade(ctx, source, names, o));

async function upgrade(ctx: CommandContext, source: PackageSource, names: string[], o: InstallOptions): Promise<void> {
  const check = await provenanceCheck(source, o.provenance ?? {});
  const s = await openRoot(ctx.root, { write: true });
  const db = await readDb(s.root, s.layout);
  for (const n of names) if (!db.has(n)) throw new MorphuxError('not_found', `${n} is not installed`, { name: n });
  if (!db.size) {
    ctx.print({ root: s.root, notes: s.notes, installed: [], upgraded: [] }, () => [...s.notes, 'nothing is installed'].join('\n'));
    return;
  }
  // everything: what was asked for, and what nothing installed depends on
  const needed = new Set([...db.values()].flatMap((r) => Object.keys(r.dependencies)));
  const targets = names.length ? names : [...db.values()].filter((r) => r.explicit || !needed.has(r.name)).map((r) => r.name);
  const plan = await source.plan(targets.map((n) => db.get(n)!.spec || n), o.arch ?? [...db.values()][0].arch, db);
  await transact(ctx, source, s, db, plan, {
    command: `upgrade ${names.join(' ')}`.trim(), overwrite: o.overwrite, check,
    explicit: (_name, old) => old?.explicit ?? false,
    spec: (name, old) => old?.spec ?? name,
    marks: [],
  });
}

interface TransactOptions {
  command: string;
  overwrite: boolean;
  explicit: (name: string, old: PackageRecord | undefined) => boolean;
  spec: (name: string, old: PackageRecord | undefined) => string;
  /** installed packages whose record only changes (asked for now: explicit) */
  marks: PackageRecord[];
  /** --require-provenance: refuses what changes unless its provenance checks out, before any download */
  check: ((packages: readonly PlanPackage[]) => Promise<void>) | null;
}

async function transact(ctx: CommandContext, source: PackageSource, s: RootSession, db: Db, plan: Plan, t: TransactOptions): Promise<void> {
  const changed = plan.packages.filter((p) => db.get(p.name)?.pkgid !== p.pkgid);
  const marks = t.marks.filter((m) => !changed.some((p) => p.name === m.name));
  if (!changed.length && !marks.length) {
    await source.succeeded();
    ctx.print({ root: s.root, notes: s.notes, installed: [], upgraded: [], marked: [] }, () => [...s.notes, 'nothing to do: everything asked for is installed and up to date'].join('\n'));
    return;
  }
  const manifests = await pool(changed, 4, (p) => source.manifest(p));
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const records: PackageRecord[] = changed.map((p, i) => {
    const old = db.get(p.name);
    return {
      format: 1, name: p.name, version: p.version, pkgid: p.pkgid, pkgurl: p.pkgurl, arch: p.arch,
      explicit: t.explicit(p.name, old), spec: t.spec(p.name, old), installed_at: now, installed_size: p.installed_size,
      dependencies: p.dependencies, resolved: p.resolved, files: manifests[i],
    };
  });
  const input: ApplyInput = {
    session: s, db, put: [...records, ...marks], recordOnly: new Set(marks.map((m) => m.name)), remove: [],
    overwrite: t.overwrite, archives: new Map(), command: t.command, txid: newTxid(), stepDelayMs: ctx.stepDelayMs,
  };
  preview(input); // conflicts: refused before anything is downloaded or written
  await t.check?.(changed); // provenance, when required: likewise
  const lines = [...changed.map((p) => lineOf(p, db.get(p.name), records.find((r) => r.name === p.name)!.explicit)), ...marks.map((m) => lineOfMark(m))];
  if (!ctx.json) ctx.print(null, () => describe(lines));
  await confirm('Proceed with the installation?', ctx.yes);

  const tmp = await downloadDir();
  try {
    const files = await source.archives(changed, tmp, { progress: ctx.progress });
    changed.forEach((p, i) => {
      input.archives.set(p.name, files[i]);
      scanArchive(files[i], p.name, records[i].files, null); // every entry checked before ROOT is touched
    });
    const { plan: done, triggers } = await apply(input);
    await source.succeeded();
    const result = {
      root: s.root, notes: s.notes,
      installed: changed.filter((p) => !db.has(p.name)).map((p) => ({ name: p.name, version: p.version, pkgid: p.pkgid, explicit: records.find((r) => r.name === p.name)!.explicit })),
      upgraded: changed.filter((p) => db.has(p.name)).map((p) => ({ name: p.name, from: db.get(p.name)!.version, to: p.version, from_pkgid: db.get(p.name)!.pkgid, pkgid: p.pkgid })),
      marked: marks.map((m) => ({ name: m.name, explicit: true, spec: m.spec })),
      kept_config: done.keptConfig, mpmnew: done.mpmnew, triggers,
    };
    ctx.print(result, () => [
      ...s.notes,
      ...result.installed.map((p) => `installed ${p.name} ${p.version} (pkgid ${p.pkgid})${p.explicit ? '' : ' as a dependency'}`),
      ...result.upgraded.map((p) => `${p.from === p.to ? 'reinstalled' : 'upgraded'} ${p.name} ${p.from} -> ${p.to} (pkgid ${p.from_pkgid} -> ${p.pkgid})`),
      ...result.marked.map((m) => `${m.name}: now installed explicitly (${m.spec})`),
      ...keptLines(done.keptConfig, done.mpmnew),
      ...triggers,
    ].join('\n'));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export function keptLines(kept: string[], mpmnew: string[]): string[] {
  return kept.map((k) => mpmnew.includes(`${k}.mpmnew`)
    ? `kept ${k} (you changed it); the new version is ${k}.mpmnew`
    : `kept ${k} (you changed it)`);
}

function lineOf(p: PlanPackage, old: PackageRecord | undefined, explicit: boolean): ChangeLine {
  const kind = !old ? 'new' : old.version === p.version ? 'reinstall' : compareVersions(p.version, old.version) > 0 ? 'upgrade' : 'downgrade';
  return { name: p.name, kind, from: old?.version ?? null, to: p.version, pkgid: p.pkgid, explicit, download: p.binaries.size, size: p.installed_size, sizeBefore: old?.installed_size ?? 0 };
}

const lineOfMark = (m: PackageRecord): ChangeLine =>
  ({ name: m.name, kind: 'mark explicit', from: m.version, to: m.version, pkgid: m.pkgid, explicit: true, download: 0, size: m.installed_size, sizeBefore: m.installed_size });
