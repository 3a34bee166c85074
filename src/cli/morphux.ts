#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384:glibc.malloc.arena_max=2:${GLIBC_TUNABLES} node --max-semi-space-size=4 --expose-gc
// `morphux`: the operator's command. serve (one process: git, store, API, website, embedded
// worker), user and repo administration, store fsck/reindex, the rebuild check, the VM base image, a worker alone,
// publishing keys and FTP mirrors.
// Every command takes --data DIR (or MORPHUX_DATA) and --config FILE (or MORPHUX_CONFIG).
// The first line sets the server's memory habits before node starts (glibc reads its tunables only
// at exec): blocks of 16 KiB or more (stream and pipe buffers) are mmap'ed and go back to the system
// when freed, instead of staying in a fragmented brk heap after a burst of clones and downloads;
// two malloc arenas at most; V8's young generation capped at 4 MiB semi-spaces; gc() for the one
// collection the server makes when it goes quiet (server/idle-gc.ts). A GLIBC_TUNABLES of the
// caller's own comes last and wins. `npm start` runs this file too (docs/BENCHMARKS.md, item 7).
import { Command } from 'commander';
import { action } from '../lib/command-errors.js';
import { repoCreate, repoMaintainer, userAdd, userTokenAdd, userTokenList, userTokenRevoke } from '../main/account-commands.js';
import { imageBuild, serve, storeFsck, storeReindex } from '../main/morphux-commands.js';
import { keysExportContent, keysInit, keysRotate, keysShowPublic } from '../main/keys-commands.js';
import { mirrorPush, mirrorStatus } from '../main/mirror-commands.js';
import { replicaCommand } from '../main/replica-command.js';
import { workerCommand } from '../main/worker-command.js';
import { rebuildCommand } from '../main/rebuild-command.js';

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
  .option('--worker', 'a build worker\'s account: its tokens open the internal worker API and nothing else', false)
  .action(action(userAdd));
const token = user.command('token').description('a user\'s named API tokens');
withData(token.command('add <user>').description('add a named token and print it (shown once; only its hash is stored)'))
  .requiredOption('--name <name>', 'the token\'s name, unique for the user (e.g. laptop)')
  .action(action(userTokenAdd));
withData(token.command('revoke <user> <token>').description('revoke a token by name or id; it stops working at once')).action(action(userTokenRevoke));
withData(token.command('list <user>').description('the names, ids and dates of a user\'s tokens')).option('--json', 'machine-readable output').action(action(userTokenList));

const repo = program.command('repo').description('manage package repositories');
withData(repo.command('create <name>').description('create a package: its bare git repo, hooks installed, and its maintainer'))
  .requiredOption('--maintainer <user>', 'the user who maintains it')
  .action(action(repoCreate));
withData(repo.command('maintainer <add|remove> <name> <user>').description('add or remove a (co-)maintainer of a package')).action(action(repoMaintainer));

const store = program.command('store').description('check and rebuild the store');
withData(store.command('fsck').description('exit 0 only when the tree, the indexes and the store\'s git agree')).option('--json', 'machine-readable output').action(action(storeFsck));
withData(store.command('reindex').description('rebuild the flat JSON indexes from the tree')).action(action(storeReindex));

withData(program.command('rebuild <pkgid>').description('the rebuild check of a good submission, now: built again in a fresh VM with a varied environment and compared file by file; exit 0 only when reproducible'))
  .option('--json', 'machine-readable output')
  .option('--wait <seconds>', 'with a Redis queue: wait this long for the verdict (default: queue it and return)')
  .action(action(rebuildCommand));

withData(program.command('worker').description('a build worker on its own (scale-out): jobs from Redis, VMs here, results to the server'))
  .requiredOption('--server <url>', 'the Morphux server (its internal worker API)')
  .requiredOption('--token <token>', 'a worker token of the server (morphux user add NAME --worker)')
  .option('--arch <arch>', 'architecture to build', 'x86_64')
  .option('--concurrency <n>', 'VMs at once (default builder.concurrency)')
  .option('--redis <url>', 'the Redis queue (default queue.url of the config)')
  .action(action(workerCommand));

withData(program.command('replica').description('a read replica: serves /store, /pkg, /port and the read API from a clone of the primary\'s store.git'))
  .option('--upstream <url>', 'the primary (default replica.upstream of the config)')
  .option('--host <host>', 'address to listen on (default server.host)')
  .option('--port <port>', 'port to listen on (default server.port)')
  .option('--interval <seconds>', 'seconds between two fetches (default replica.interval_seconds)')
  .action(action(replicaCommand));

const image = program.command('image').description('build VM base images');
withData(image.command('build').description('build (or find cached) the base image, kernel and initramfs the builder boots'))
  .option('--arch <arch>', 'architecture', 'x86_64')
  .action(action(imageBuild));

const keys = program.command('keys').description('the publishing keys: Ed25519 signing and AES-256-GCM content keys (DATA/publish/keys)');
withData(keys.command('init').description('create the first signing and content keys')).option('--json', 'machine-readable output').action(action(keysInit));
withData(keys.command('rotate').description('make new keys active; old ones are kept for what they published')).option('--json', 'machine-readable output').action(action(keysRotate));
withData(keys.command('show-public').description('print the public signing keys users pin (mpm --public-key)')).option('--json', 'machine-readable output').action(action(keysShowPublic));
withData(keys.command('export-content-keys').description('write the content keys subscribers decrypt with (mpm --content-keys)'))
  .requiredOption('-o, --output <file>', 'new file to write (mode 0600)')
  .action(action(keysExportContent));

const mirror = program.command('mirror').description('the FTP mirrors artifacts are published to (publish.mirrors)');
withData(mirror.command('status').description('what each mirror holds, what is pending and what failed')).option('--json', 'machine-readable output').action(action(mirrorStatus));
withData(mirror.command('push').description('build missing artifacts and push every mirror now (back-off ignored); exit 1 if anything is left'))
  .option('--json', 'machine-readable output').action(action(mirrorPush));

await program.parseAsync(process.argv);
