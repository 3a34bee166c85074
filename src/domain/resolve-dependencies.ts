// The one dependency resolution rule. Before any VM starts: the build's `dependencies` and
// `build_dependencies`, then each chosen package's own `dependencies`, against good submissions.
// Picks the highest good version satisfying every range on a name; a missing package, an
// unsatisfiable range or a cycle fails with code `dependency` naming the culprit, in the spirit of
// OBS's "nothing provides X needed by Y". The result is in install order (dependencies first).
// The same resolution answers install plans (service/install-plan.ts, resolveClosure): the
// runtime closure of submissions already chosen (pinned), with their own ranges checked the same way;
// and `mpm install --mirror` resolves a signed index's entries with it (mpm/install/mirror-plan.ts).
// Pure (in domain/ so that the builder, the server and the client share it): no I/O.
import { MorphuxError } from './errors.js';
import { compareVersions, parseRange, satisfies } from './version.js';

export interface Candidate {
  pkgid: number;
  name: string;
  version: string;
  /** runtime dependencies of that submission */
  dependencies: Record<string, string>;
}

export interface ResolveInput {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  build_dependencies: Record<string, string>;
}

/** good, eligible submissions of a package (any order) */
export type CandidateLookup = (name: string) => Promise<Candidate[]>;

/** Submissions chosen before resolution (an install plan's requested ones): a range on such a
 *  name is checked against it alone. */
export type Pinned = ReadonlyMap<string, Candidate>;

/**
 * The resolution both callers share: visit(name, range, chain) chooses the highest candidate of
 * `name` satisfying `range` (or checks the one chosen earlier, or the pinned one), then its own
 * dependencies, depth first; `order` is every chosen candidate, dependencies first. `chain` is the
 * path of names that led here (its last one "needs" this name, in messages).
 */
function resolver(lookup: CandidateLookup, pinned: Pinned = new Map()) {
  const chosen = new Map<string, Candidate>();
  const order: Candidate[] = [];
  const cache = new Map<string, Candidate[]>();
  const candidates = async (n: string) => {
    if (!cache.has(n)) cache.set(n, (await lookup(n)).sort((a, b) => compareVersions(b.version, a.version) || b.pkgid - a.pkgid));
    return cache.get(n)!;
  };
  const who = (chain: string[]) => chain[chain.length - 1];

  async function visit(name: string, rangeText: string, chain: string[]): Promise<void> {
    if (chain.includes(name)) {
      throw new MorphuxError('dependency', `dependency cycle: ${[...chain, name].join(' -> ')}`, { cycle: [...chain, name] });
    }
    const range = parseRange(rangeText);
    const have = chosen.get(name);
    if (have) {
      if (!satisfies(have.version, range)) {
        throw new MorphuxError('dependency', `${name} ${rangeText} needed by ${who(chain)} conflicts with ${name} ${have.version} chosen earlier`, { package: name, range: rangeText, needed_by: who(chain) });
      }
      return;
    }
    const pin = pinned.get(name);
    if (pin && !satisfies(pin.version, range)) {
      throw new MorphuxError('dependency', `${name} ${rangeText} needed by ${who(chain)} conflicts with ${name} ${pin.version} (pkgid ${pin.pkgid}) requested`, { package: name, range: rangeText, needed_by: who(chain) });
    }
    const all = pin ? [pin] : await candidates(name);
    if (all.length === 0) {
      throw new MorphuxError('dependency', `nothing provides ${name} needed by ${who(chain)}: no good submission of ${name}`, { package: name, needed_by: who(chain) });
    }
    const pick = all.find((c) => satisfies(c.version, range));
    if (!pick) {
      throw new MorphuxError('dependency', `nothing provides ${name} ${rangeText} needed by ${who(chain)}: good versions are ${all.map((c) => c.version).join(', ')}`, { package: name, range: rangeText, needed_by: who(chain) });
    }
    chosen.set(name, pick);
    for (const [dep, r] of Object.entries(pick.dependencies).sort()) await visit(dep, r, [...chain, name]);
    order.push(pick);
  }
  return { visit, order };
}

export async function resolveDependencies(root: ResolveInput, lookup: CandidateLookup): Promise<Candidate[]> {
  const r = resolver(lookup);
  const direct = [...Object.entries(root.dependencies).sort(), ...Object.entries(root.build_dependencies).sort()];
  for (const [dep, range] of direct) {
    if (dep === root.name) throw new MorphuxError('dependency', `dependency cycle: ${root.name} -> ${root.name}`, { cycle: [root.name, root.name] });
    await r.visit(dep, range, [root.name]);
  }
  return r.order;
}

/**
 * The runtime closure of chosen submissions (each name once): the roots and, through their
 * `dependencies`, every submission they need, in install order (dependencies first). A range on a
 * root's name is checked against that root; other names resolve through `lookup` as for a build.
 */
export async function resolveClosure(roots: readonly Candidate[], lookup: CandidateLookup): Promise<Candidate[]> {
  const pinned = new Map(roots.map((c) => [c.name, c]));
  const r = resolver(lookup, pinned);
  for (const c of roots) await r.visit(c.name, '*', []);
  return r.order;
}
