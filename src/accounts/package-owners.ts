// Who maintains which package: DATA/packages/<name>.json {name, maintainers, created_at},
// written atomically. Checked on every authorisation, so changes by operator commands count at once:
// a stat per read, the file parsed again only when it was replaced (new inode, size or mtime).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { checkPackageName, checkUserName } from '../domain/names.js';
import { atomicWriteJson, readJsonFile } from '../lib/atomic-write.js';

export interface PackageOwners {
  name: string;
  maintainers: string[];
  /** who created the package; absent in records made before owners were kept: maintainers[0] */
  owner?: string;
  created_at: string;
}

export class PackageOwnersStore {
  /** parsed files by package name (shared, never changed: put() writes a new object) */
  private readonly parsed = new Map<string, { ino: number; size: number; mtimeMs: number; owners: PackageOwners }>();

  constructor(private readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, `${checkPackageName(name)}.json`);
  }

  async get(name: string): Promise<PackageOwners | null> {
    const f = this.file(name);
    let st;
    try {
      st = await stat(f);
    } catch {
      this.parsed.delete(name);
      return null;
    }
    const c = this.parsed.get(name);
    if (c && c.ino === st.ino && c.size === st.size && c.mtimeMs === st.mtimeMs) return c.owners;
    const owners = await readJsonFile<PackageOwners>(f);
    if (owners) this.parsed.set(name, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, owners });
    else this.parsed.delete(name);
    return owners;
  }

  async put(owners: PackageOwners): Promise<void> {
    await atomicWriteJson(this.file(owners.name), owners);
  }

  /** Adds (on) or removes a maintainer; the last maintainer cannot be removed (conflict). Who may
   *  is service/authorize.ts's; an owner removed (by an admin) leaves the package to the next maintainer. */
  async setMaintainer(name: string, user: string, on: boolean): Promise<PackageOwners> {
    checkUserName(user);
    const o = await this.get(name);
    if (!o) throw new MorphuxError('not_found', `no package ${name}`, { name });
    const has = o.maintainers.includes(user);
    if (has === on) return o;
    if (!on && o.maintainers.length === 1) throw new MorphuxError('conflict', `${user} is the last maintainer of ${name}`, { user });
    const maintainers = on ? [...o.maintainers, user] : o.maintainers.filter((m) => m !== user);
    const owner = o.owner ?? o.maintainers[0];
    const next = { ...o, maintainers, owner: maintainers.includes(owner) ? owner : maintainers[0] };
    await this.put(next);
    return next;
  }
}
