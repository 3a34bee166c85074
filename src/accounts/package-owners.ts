// Who maintains which package: DATA/packages/<name>.json {name, maintainers, created_at},
// written atomically. Read on every authorisation, so changes by operator commands count at once.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { checkPackageName } from '../domain/names.js';
import { atomicWriteJson } from '../store/atomic-write.js';
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
    try {
      return JSON.parse(await readFile(this.file(name), 'utf8')) as PackageOwners;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async put(owners: PackageOwners): Promise<void> {
    await atomicWriteJson(this.file(owners.name), owners);
  }

  /** May this principal push to / flag / manage the package? Maintainers and admins. */
  async mayMaintain(p: Principal, name: string): Promise<boolean> {
    if (p.admin) return true;
    const o = await this.get(name);
    return !!o && o.maintainers.includes(p.name);
  }
}
