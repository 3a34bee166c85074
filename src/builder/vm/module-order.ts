// Kernel module load order for the guest initramfs: resolves the wanted modules and all their
// dependencies from a modules.dep text into an order where each module follows what it needs.
import { MorphuxError } from '../../domain/errors.js';

export interface ModuleFile {
  /** module name as insmod knows it (file name without .ko[.xz|.zst|.gz]) */
  name: string;
  /** path relative to /lib/modules/<version> */
  relPath: string;
}

const KO = /\.ko(\.xz|\.zst|\.gz)?$/;

export function moduleName(relPath: string): string {
  return (relPath.split('/').pop() ?? relPath).replace(KO, '').replace(/-/g, '_');
}

/** Parses modules.dep and returns the load order of `wanted` (names with - or _) and their deps. */
export function moduleOrder(modulesDep: string, wanted: string[]): ModuleFile[] {
  const deps = new Map<string, { relPath: string; needs: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const relPath = line.slice(0, colon).trim();
    const needs = line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName);
    deps.set(moduleName(relPath), { relPath, needs });
  }
  const order: ModuleFile[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (name: string, chain: string[]): void => {
    if (done.has(name)) return;
    const entry = deps.get(name);
    if (!entry) throw new MorphuxError('infrastructure', `kernel module ${name} is not in modules.dep`, { module: name, chain });
    if (visiting.has(name)) throw new MorphuxError('infrastructure', `kernel module dependency cycle at ${name}`, { chain });
    visiting.add(name);
    for (const dep of entry.needs) visit(dep, [...chain, name]);
    visiting.delete(name);
    done.add(name);
    order.push({ name, relPath: entry.relPath });
  };
  for (const w of wanted) visit(w.replace(/-/g, '_'), []);
  return order;
}
