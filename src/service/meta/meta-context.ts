// What the actions on a submission (comment, vote, tag, report, stable flag) need of the instance.
import type { PackageOwnersStore } from '../../accounts/package-owners.js';
import type { Store } from '../../store/tree/store.js';
import type { ActionContextBase } from '../perform.js';

export interface MetaContext extends ActionContextBase {
  store: Store;
  owners: PackageOwnersStore;
}
