// Who maintains which package: DATA/packages/<name>.json {name, maintainers, created_at},
// written atomically. Read on every authorisation, so changes by operator commands count at once.
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { checkPackageName, checkUserName } from '../domain/names.js';
import { atomicWriteJson, readJsonFile } from '../store/atomic-write.js';
import type { Principal } from './user-store.js';

export interface PackageOwners {
  name: string;
  maintainers: string[];
  created_at: string;
}

export class PackageOwnersStore {
  constructor(private readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, `${checkPackageName(name)}.json`);
  }

  async get(name: string): Promise<PackageOwners | null> {
    return readJsonFile<PackageOwners>(this.file(name));
  }

  async put(owners: PackageOwners): Promise<void> {
    await atomicWriteJson(this.file(owners.name), owners);
  }

  /** Adds (on) or removes a maintainer; the last maintainer cannot be removed (conflict). */
  async setMaintainer(name: string, user: string, on: boolean): Promise<PackageOwners> {
    checkUserName(user);
    const o = await this.get(name);
    if (!o) throw new MorphuxError('not_found', `no package ${name}`, { name });
    const has = o.maintainers.includes(user);
    if (has === on) return o;
    if (!on && o.maintainers.length === 1) throw new MorphuxError('conflict', `${user} is the last maintainer of ${name}`, { user });
    const next = { ...o, maintainers: on ? [...o.maintainers, user] : o.maintainers.filter((m) => m !== user) };
    await this.put(next);
    return next;
  }

  /** May this principal push to / flag / manage the package? Maintainers and admins. */
  async mayMaintain(p: Principal, name: string): Promise<boolean> {
    if (p.admin) return true;
    const o = await this.get(name);
    return !!o && o.maintainers.includes(p.name);
  }
}
