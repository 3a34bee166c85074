// What `mpm remove` takes away (pure): the named packages, refused while an installed package
// that stays depends on one (unless --cascade, which takes those too), and with --orphans every
// dependency nothing left needs.
import { MorphuxError } from '../domain/errors.js';
import type { Db } from './db.js';

/** Installed packages that depend on `name` (by the names of their declared dependencies). */
export const dependentsOf = (db: Db, name: string): string[] =>
  [...db.values()].filter((r) => r.name !== name && Object.hasOwn(r.dependencies, name)).map((r) => r.name).sort();

/** Packages installed as dependencies that no package outside `gone` needs, transitively. */
export function orphansAfter(db: Db, gone: Set<string>): string[] {
  const out = new Set(gone);
  for (let changed = true; changed;) {
    changed = false;
    for (const r of db.values()) {
      if (out.has(r.name) || r.explicit) continue;
      if (dependentsOf(db, r.name).every((d) => out.has(d))) {
        out.add(r.name);
        changed = true;
      }
    }
  }
  return [...out].filter((n) => !gone.has(n));
}

export interface RemovalPlan {
  /** every package removed, dependents before their dependencies */
  remove: string[];
  /** those added by --cascade */
  cascaded: string[];
  /** those added by --orphans */
  orphans: string[];
}

export function planRemoval(db: Db, names: string[], o: { cascade?: boolean; orphans?: boolean } = {}): RemovalPlan {
  for (const n of names) if (!db.has(n)) throw new MorphuxError('not_found', `${n} is not installed`, { name: n });
  const gone = new Set(names);
  const cascaded: string[] = [];
  for (let changed = true; changed;) {
    changed = false;
    for (const n of [...gone]) {
      const users = dependentsOf(db, n).filter((d) => !gone.has(d));
      if (!users.length) continue;
      if (!o.cascade) throw new MorphuxError('dependency', `cannot remove ${n}: ${users.join(', ')} ${users.length > 1 ? 'depend' : 'depends'} on it (--cascade removes ${users.length > 1 ? 'them' : 'it'} too)`, { name: n, dependents: users });
      for (const u of users) {
        gone.add(u);
        cascaded.push(u);
      }
      changed = true;
    }
  }
  const orphans = o.orphans ? orphansAfter(db, gone) : [];
  for (const n of orphans) gone.add(n);
  return { remove: removalOrder(db, gone), cascaded, orphans };
}

/** `names` ordered so that a package comes before the packages it depends on. */
function removalOrder(db: Db, names: Set<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const d of dependentsOf(db, n)) if (names.has(d)) visit(d);
    out.push(n);
  };
  for (const n of [...names].sort()) visit(n);
  return out;
}
