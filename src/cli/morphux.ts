#!/usr/bin/env node
// `morphux`: the operator's command. serve (one process: git, store, API, website, embedded
// worker), user and repo administration, store fsck/reindex, the VM base image, a worker alone.
// Every command takes --data DIR (or MORPHUX_DATA) and --config FILE (or MORPHUX_CONFIG).
import { Command } from 'commander';
import { action } from './cli-support.js';
import { imageBuild, repoCreate, serve, storeFsck, storeReindex, userAdd } from './commands/morphux-commands.js';

const program = new Command('morphux')
  .description('Morphux package infrastructure: git hosting, VM builds, the package store and its HTTP API')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') });

const withData = (c: Command) => c.option('--data <dir>', 'data directory (default ./var, env MORPHUX_DATA)').option('--config <file>', 'YAML config file (default DATA/morphux.yaml, env MORPHUX_CONFIG)');

withData(program.command('serve').description('serve git, the store, the API and the website, with an embedded build worker'))
  .option('--host <host>', 'address to listen on (default 127.0.0.1, env MORPHUX_HOST)')
  .option('--port <port>', 'port to listen on (default 8080, env MORPHUX_PORT)')
  .option('--no-worker', 'do not run the embedded build worker')
  .action(action(serve));

const user = program.command('user').description('manage users');
withData(user.command('add <name>').description('create a user and print its API token (shown once; only its hash is stored)'))
  .option('--admin', 'make the user an admin', false)
  .action(action(userAdd));

const repo = program.command('repo').description('manage package repositories');
withData(repo.command('create <name>').description('create a package: its bare git repo, hooks installed, and its maintainer'))
  .requiredOption('--maintainer <user>', 'the user who maintains it')
  .action(action(repoCreate));

const store = program.command('store').description('check and rebuild the store');
withData(store.command('fsck').description('exit 0 only when the tree, the indexes and the store\'s git agree')).option('--json', 'machine-readable output').action(action(storeFsck));
withData(store.command('reindex').description('rebuild the flat JSON indexes from the tree')).action(action(storeReindex));

const image = program.command('image').description('build VM base images');
withData(image.command('build').description('build (or find cached) the base image, kernel and initramfs the builder boots'))
  .option('--arch <arch>', 'architecture', 'x86_64')
  .action(action(imageBuild));

await program.parseAsync(process.argv);
