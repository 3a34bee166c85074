// The server's install plan (docs/install-plan.md): GET /api/v1/install?pkg=…&arch=…&installed=…,
// refused unless it is the agreed shape (zod) and consistent: on the server's origin, names and
// versions valid, dependencies first, each dependency in the plan or already installed.
import { z } from 'zod';
import { MorphuxError } from '../../domain/errors.js';
import { isPackageName } from '../../domain/names.js';
import { decodeUtf8, parseUntrustedJson } from '../../domain/untrusted-text.js';
import { isVersion } from '../../domain/version.js';
import type { MpmClient, MpmResponse } from '../client.js';
import type { Db } from '../db.js';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'not a sha256');
const name = z.string().refine(isPackageName, 'not a package name');
const arch = z.string().regex(/^[A-Za-z0-9_]{1,32}$/, 'not an arch');
const pkgid = z.number().int().positive();

export const planPackageSchema = z.object({
  name,
  version: z.string().refine(isVersion, 'not a version'),
  pkgid,
  pkgurl: z.string().max(2048),
  arch,
  explicit: z.boolean(),
  installed_size: z.number().int().nonnegative(),
  compile_seconds: z.number().nonnegative().nullable().optional(),
  dependencies: z.record(name, z.string().max(256)),
  resolved: z.record(name, pkgid),
  binaries: z.object({ url: z.string().max(2048), size: z.number().int().nonnegative(), sha256: hex64 }),
  manifest: z.object({ url: z.string().max(2048), sha256: hex64 }),
});
export const planSchema = z.object({
  arch,
  requested: z.array(z.string().max(2048)),
  packages: z.array(planPackageSchema).max(10_000),
  unchanged: z.array(z.object({ name, pkgid })).max(10_000).optional(),
});
export type Plan = z.infer<typeof planSchema>;
export type PlanPackage = z.infer<typeof planPackageSchema>;

const MAX_PLAN_BYTES = 32 << 20;
const invalid = (why: string) => new MorphuxError('bad_request', `the server's install plan is invalid: ${why}`);

/** Reads a whole body, refusing more than `max` bytes. */
export function readLimited(res: MpmResponse, max: number, what: string): Promise<Buffer> {
  return res.buffer(max, what);
}

export async function fetchPlan(client: MpmClient, queries: string[], archName: string, installed: Db): Promise<Plan> {
  const q = new URLSearchParams();
  for (const s of queries) q.append('pkg', s);
  q.set('arch', archName);
  if (installed.size) q.set('installed', [...installed.values()].map((r) => `${r.name}@${r.pkgid}`).join(','));
  const res = await client.request('GET', `/api/v1/install?${q}`);
  const bytes = await readLimited(res, MAX_PLAN_BYTES, 'the install plan');
  let json: unknown;
  try {
    json = parseUntrustedJson(decodeUtf8(bytes, 'bad_request', 'the install plan'), 'bad_request', 'the install plan');
  } catch (e) {
    throw invalid((e as Error).message);
  }
  return checkPlan(client, json, archName, installed);
}

/** The plan, or a bad_request saying what is wrong with it. */
export function checkPlan(client: Pick<MpmClient, 'onOrigin'>, json: unknown, archName: string, installed: Db): Plan {
  const r = planSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw invalid(`${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const plan = r.data;
  if (plan.arch !== archName) throw invalid(`it is for ${plan.arch}, not ${archName}`);
  const before = new Map<string, number>();
  for (const u of plan.unchanged ?? []) before.set(u.name, u.pkgid);
  for (const p of plan.packages) {
    const at = `package ${p.name}`;
    if (before.has(p.name) || plan.packages.filter((x) => x.name === p.name).length > 1) throw invalid(`${at} is listed twice`);
    if (p.arch !== plan.arch) throw invalid(`${at} is for ${p.arch}, the plan for ${plan.arch}`);
    for (const [what, u] of [['pkgurl', p.pkgurl], ['binaries URL', p.binaries.url], ['manifest URL', p.manifest.url]] as const) {
      try {
        client.onOrigin(u, `the ${what} of ${p.name}`);
      } catch (e) {
        throw invalid((e as Error).message);
      }
    }
    if (!new RegExp(`/pkg/${p.pkgid}$`).test(new URL(p.pkgurl).pathname)) throw invalid(`${at}: pkgurl ${p.pkgurl} is not its /pkg/${p.pkgid}`);
    for (const dep of Object.keys(p.dependencies)) {
      const id = p.resolved[dep];
      if (id === undefined) throw invalid(`${at}: dependency ${dep} is not resolved`);
      const known = before.get(dep) ?? installed.get(dep)?.pkgid;
      if (known !== id) throw invalid(`${at}: dependency ${dep} (pkgid ${id}) comes neither before it nor is it installed`);
    }
    before.set(p.name, p.pkgid);
  }
  return plan;
}
