// The operator's account commands: `morphux user add`, named tokens (`morphux user token
// add|revoke|list`), `morphux repo create` and maintainers (`morphux repo maintainer add|remove`).
// Each runs the same use case as the API, as the operator (service/actor.ts), over the same files
// the server reads on every request, so a running server sees the change at once.
import { PackageOwnersStore } from '../accounts/package-owners.js';
import { UserStore } from '../accounts/user-store.js';
import type { LoadedConfig } from '../config/load-config.js';
import { createLogger } from '../lib/logger.js';
import { MorphuxError } from '../domain/errors.js';
import type { AccountsContext } from '../service/accounts/accounts-context.js';
import { createUser } from '../service/accounts/create-user.js';
import { setMaintainer } from '../service/accounts/set-maintainer.js';
import { addToken, listTokens, revokeToken } from '../service/accounts/tokens.js';
import { OPERATOR } from '../service/actor.js';
import { createPackage } from '../service/create-package.js';
import { dataLayout } from '../config/data-layout.js';
import { perform, type Action } from '../service/perform.js';
import { configFrom } from './cli-support.js';

interface DataOpts {
  data?: string;
  config?: string;
}

/** Runs a use case as the operator over the data dir's account files (no store is opened). */
async function asOperator<I, R>(opts: DataOpts, action: Action<I, R, AccountsContext>, raw: unknown): Promise<{ result: R; config: LoadedConfig }> {
  const config = configFrom(opts);
  const layout = dataLayout(config.data);
  const ctx: AccountsContext = { config, layout, log: createLogger('warn'), users: new UserStore(layout.users), owners: new PackageOwnersStore(layout.packages) };
  return { result: await perform(ctx, { actor: OPERATOR, address: null }, action, raw), config };
}

/** Prints the new token alone on stdout, once (only its hash is stored). */
export async function userAdd(name: string, opts: DataOpts & { admin: boolean; worker: boolean }): Promise<void> {
  const { result } = await asOperator(opts, createUser, { name, admin: opts.admin || undefined, worker: opts.worker || undefined });
  process.stdout.write(`${result.token}\n`);
}

export async function userTokenAdd(user: string, opts: DataOpts & { name: string }): Promise<void> {
  const { result } = await asOperator(opts, addToken, { user, name: opts.name });
  process.stdout.write(`${result.token}\n`);
}

export async function userTokenRevoke(user: string, token: string, opts: DataOpts): Promise<void> {
  await asOperator(opts, revokeToken, { user, token });
  process.stdout.write(`revoked ${user}'s token ${token}\n`);
}

export async function userTokenList(user: string, opts: DataOpts & { json?: boolean }): Promise<void> {
  const { result: tokens } = await asOperator(opts, listTokens, { user });
  if (opts.json) process.stdout.write(JSON.stringify(tokens, null, 2) + '\n');
  else process.stdout.write(tokens.map((t) => `${t.name}\t${t.id}\t${t.created_at}`).join('\n') + (tokens.length ? '\n' : ''));
}

export async function repoCreate(name: string, opts: DataOpts & { maintainer: string }): Promise<void> {
  const { result: owners, config } = await asOperator(opts, createPackage, { name, maintainer: opts.maintainer });
  process.stdout.write(`created ${owners.name} (owner ${owners.owner}): clone ${config.publicUrl}/${owners.name}.git\n`);
}

export async function repoMaintainer(verb: string, name: string, user: string, opts: DataOpts): Promise<void> {
  if (verb !== 'add' && verb !== 'remove') throw new MorphuxError('bad_request', `maintainer add or remove, not ${verb}`);
  const { result: owners } = await asOperator(opts, setMaintainer, { package: name, user, on: verb === 'add' });
  process.stdout.write(`${owners.name}: maintainers ${owners.maintainers.join(', ')} (owner ${owners.owner})\n`);
}
