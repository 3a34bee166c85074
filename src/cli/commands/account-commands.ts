// The operator's account commands beyond `user add`: named tokens (`morphux user token
// add|revoke|list`) and maintainers (`morphux repo maintainer add|remove`). They write the same
// files the server reads on every request, so a running server sees them at once.
import { PackageOwnersStore } from '../../accounts/package-owners.js';
import { UserStore } from '../../accounts/user-store.js';
import { MorphuxError } from '../../domain/errors.js';
import { dataLayout } from '../../service/data-layout.js';
import { configFrom } from '../cli-support.js';

interface DataOpts {
  data?: string;
  config?: string;
}

const usersOf = (opts: DataOpts) => new UserStore(dataLayout(configFrom(opts).data).users);

/** Prints the new token alone on stdout, once (only its hash is stored). */
export async function userTokenAdd(user: string, opts: DataOpts & { name: string }): Promise<void> {
  const { token } = await usersOf(opts).addToken(user, opts.name);
  process.stdout.write(`${token}\n`);
}

export async function userTokenRevoke(user: string, token: string, opts: DataOpts): Promise<void> {
  await usersOf(opts).revokeToken(user, token);
  process.stdout.write(`revoked ${user}'s token ${token}\n`);
}

export async function userTokenList(user: string, opts: DataOpts & { json?: boolean }): Promise<void> {
  const tokens = await usersOf(opts).listTokens(user);
  if (opts.json) process.stdout.write(JSON.stringify(tokens, null, 2) + '\n');
  else process.stdout.write(tokens.map((t) => `${t.name}\t${t.id}\t${t.created_at}`).join('\n') + (tokens.length ? '\n' : ''));
}

export async function repoMaintainer(action: string, name: string, user: string, opts: DataOpts): Promise<void> {
  if (action !== 'add' && action !== 'remove') throw new MorphuxError('bad_request', `maintainer add or remove, not ${action}`);
  const layout = dataLayout(configFrom(opts).data);
  if (action === 'add' && !(await new UserStore(layout.users).get(user))) throw new MorphuxError('not_found', `no user ${user}`);
  const owners = await new PackageOwnersStore(layout.packages).setMaintainer(name, user, action === 'add');
  process.stdout.write(`${owners.name}: maintainers ${owners.maintainers.join(', ')}\n`);
}
