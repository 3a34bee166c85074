// What the account actions (users, tokens, maintainers, new packages) need of the instance: the
// account files, not the store. The operator's commands build this much without opening a store.
import type { PackageOwnersStore } from '../../accounts/package-owners.js';
import type { UserStore } from '../../accounts/user-store.js';
import type { Logger } from '../../lib/logger.js';
import type { DataLayout } from '../../config/data-layout.js';
import type { ActionContextBase } from '../perform.js';

export interface AccountsContext extends ActionContextBase {
  log: Logger;
  layout: DataLayout;
  users: UserStore;
  owners: PackageOwnersStore;
}
