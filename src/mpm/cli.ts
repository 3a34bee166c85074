// `mpm`: the Morphux package client. Talks only to the public HTTP API of a server
// (--server URL / MPM_SERVER, --token T / MPM_TOKEN), on its origin only; --json for machine-readable
// output. Wherever a command takes a submission, it takes a pkgid or a pkgurl of that server.
// install, remove, upgrade, list, files, owner and verify (src/mpm/) act on --root DIR (default /).
import { homedir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { action } from '../lib/command-errors.js';
import { MorphuxError } from '../domain/errors.js';
import { mpmComment, mpmFlagStable, mpmSubmit, mpmSubmitReport, mpmTag, mpmVote } from './commands/actions.js';
import { mpmGet } from './commands/get.js';
import { submissionArg } from './submission-arg.js';
import { isAbsolute, MpmClient } from './client.js';
import type { CommandContext } from './commands/context.js';
import { mpmInstall, mpmUpgrade } from './commands/install.js';
import { mpmFiles, mpmList, mpmOwner, mpmVerify } from './commands/query.js';
import { mpmRemove } from './commands/remove.js';

const program = new Command('mpm')
  .description('Morphux package client')
  .option('--server <url>', 'Morphux server (env MPM_SERVER)', process.env.MPM_SERVER ?? 'http://127.0.0.1:8080')
  .option('--token <token>', 'API token (env MPM_TOKEN)', process.env.MPM_TOKEN)
  .option('--json', 'machine-readable output', false)
  .option('--record <file>', 'the local record of what `get` fetched (env MPM_RECORD)', process.env.MPM_RECORD ?? path.join(process.env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'mpm', 'fetched.json'))
  .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') });

// one client a run: its kept-alive connections serve the plan, the manifests and the downloads
let made: MpmClient | null = null;
const client = () => {
  const o = program.opts<{ server: string; token?: string }>();
  made ??= new MpmClient({ server: o.server, token: o.token });
  return made;
};
const json = () => program.opts<{ json: boolean }>().json;
const print = (v: unknown, text: () => string) => process.stdout.write(json() ? JSON.stringify(v, null, 2) + '\n' : text() + '\n');

program.command('query [text]').description('search packages by name and description')
  .option('--tag <tag>').option('--category <c>').option('--submitter <user>').option('--stable', 'only packages with a stable submission')
  .option('--sort <key>', 'name, updated, votes or failures', 'name')
  .option('--limit <n>', 'at most this many (1-500)').option('--next <cursor>', 'the next page, from a previous answer')
  .action(action(async (text: string | undefined, o: { tag?: string; category?: string; submitter?: string; stable?: boolean; sort: string; limit?: string; next?: string }) => {
    const q = new URLSearchParams();
    if (text) q.set('q', text);
    if (o.tag) q.set('tag', o.tag);
    if (o.category) q.set('category', o.category);
    if (o.submitter) q.set('submitter', o.submitter);
    if (o.stable) q.set('stable', 'true');
    q.set('sort', o.sort);
    if (o.limit) q.set('limit', o.limit);
    if (o.next) q.set('next', o.next);
    const r = await client().json<{ items: Array<{ name: string; latest_version: string | null; description: string }>; total: number }>('GET', `/api/v1/ports?${q}`);
    print(r, () => r.items.map((i) => `${i.name} ${i.latest_version ?? '-'}  ${i.description}`).join('\n') || 'no packages found');
  }));

program.command('info <name-or-submission>').description('a package (name) or a submission (pkgid or pkgurl)')
  .option('--provenance', 'the submission\'s signed build provenance, verified with a trusted key (--public-key, MPM_PUBLIC_KEYS or the mpm config)')
  .option('--arch <arch>', 'with --provenance: the build\'s architecture', process.arch === 'arm64' ? 'aarch64' : 'x86_64')
  .option('--public-key <key>', 'with --provenance: a trusted signing key, ed25519:… (repeatable; env MPM_PUBLIC_KEYS)', (v: string, acc: string[] = []) => [...acc, v])
  .action(action(async (what: string, o: { provenance?: boolean; arch: string; publicKey?: string[] }) => {
    if (o.provenance) {
      const { mpmInfoProvenance } = await import('./commands/provenance.js');
      const r = await mpmInfoProvenance(client(), what, o);
      print(r.value, r.text);
      return;
    }
    if (/^[0-9]+$/.test(what) || isAbsolute(what)) {
      const c = client();
      const pkgid = submissionArg(c, what);
      const r = await c.json<{ submission: { name: string; version: string; submitter: string; sha256: string }; status: { state: string; reason: string | null } }>('GET', `/api/v1/pkg/${pkgid}`);
      print(r, () => `${r.submission.name} ${r.submission.version} (pkgid ${pkgid}) by ${r.submission.submitter}: ${r.status.state}${r.status.reason ? ` (${r.status.reason})` : ''}\nsha256 ${r.submission.sha256}`);
      return;
    }
    const r = await client().json<{ name: string; maintainers: string[]; submissions: Array<{ pkgid: number; version: string; state: string; stable: boolean }> }>('GET', `/api/v1/ports/${encodeURIComponent(what)}`);
    print(r, () => [`${r.name} — maintainers: ${r.maintainers.join(', ') || 'none'}`, ...r.submissions.map((s) => `  ${s.pkgid}\t${s.version}\t${s.state}${s.stable ? '\tstable' : ''}`)].join('\n'));
  }));

program.command('get <spec>').description('download NAME, NAME@VERSION, NAME@stable, a PKGID or a PKGURL; checks its sha256')
  .option('-o, --output <file>', 'where to write the .tgz')
  .option('--extract <dir>', 'unpack into this folder instead')
  .option('--mirror [url]', 'fetch the built binaries from a signed mirror (ftp://, ftps://, http(s)://; no URL: MPM_MIRROR or the mpm config)')
  .option('--public-key <key>', 'with --mirror: a trusted signing key, ed25519:… (repeatable; env MPM_PUBLIC_KEYS)', (v: string, acc: string[] = []) => [...acc, v])
  .option('--content-keys <file>', 'with --mirror: the content keys file to decrypt with (env MPM_CONTENT_KEYS)')
  .option('--ca-file <file>', 'with an ftps:// or https:// mirror: PEM of CAs to trust besides the system\'s (env MPM_CA_FILE)')
  .option('--arch <arch>', 'with --mirror: architecture', process.arch === 'arm64' ? 'aarch64' : 'x86_64')
  .option('--require-provenance', 'with --mirror: refuse the binaries unless their signed build provenance on the mirror names them (env MPM_REQUIRE_PROVENANCE, config require_provenance)')
  .action(action(async (spec: string, o: { output?: string; extract?: string; mirror?: string | boolean; publicKey?: string[]; contentKeys?: string; caFile?: string; arch: string; requireProvenance?: boolean }) => {
    if (o.requireProvenance && o.mirror === undefined) throw new MorphuxError('bad_request', '--require-provenance checks built binaries: with `get`, only with --mirror (the server\'s `get` downloads the submitted source)');
    if (o.mirror !== undefined) {
      const which = isAbsolute(spec) ? String(submissionArg(client(), spec)) : spec;
      // loaded on use: the mirror path starts the codecs (execa), which other commands never need
      const { mirrorSettings, mpmMirrorGet } = await import('./commands/mirror-get.js');
      const m = await mpmMirrorGet({ ...(await mirrorSettings(o)), spec: which, arch: o.arch, output: o.output, extract: o.extract });
      print(m, () => `${m.name} ${m.version} (pkgid ${m.pkgid}, ${m.arch}) from ${m.mirror}, index #${m.sequence}: verified -> ${m.file ?? m.extracted}`);
      return;
    }
    const r = await mpmGet(client(), spec, { output: o.output, extract: o.extract, recordFile: program.opts<{ record: string }>().record, progress: !json() && process.stderr.isTTY === true });
    print(r, () => `${r.name} ${r.version}: ${r.pkgurl} -> ${r.file ?? r.extracted} (sha256 ${r.sha256})`);
  }));

program.command('show-reports <submission>').description('build reports of a submission (pkgid or pkgurl)')
  .action(action(async (submission: string) => {
    const c = client();
    const r = await c.json<{ items: Array<{ n: number; reporter: string; status: string; arch: string; reason: string | null; created_at: string }> }>('GET', `/api/v1/pkg/${submissionArg(c, submission)}/reports?limit=500`);
    print(r, () => r.items.map((i) => `#${i.n} ${i.created_at} ${i.reporter} ${i.arch} ${i.status}${i.reason ? ` (${i.reason})` : ''}`).join('\n') || 'no reports');
  }));

program.command('submit <dir>').description('pack a package directory (package.json at its root) and submit it; prints the pkgid and pkgurl')
  .action(action(async (dir: string) => mpmSubmit(client(), print, dir)));

program.command('flag-stable <submission>').description('flag a submission (pkgid or pkgurl) stable (maintainers and admins); it moves from the previous one')
  .option('--clear', 'remove the flag instead', false)
  .action(action(async (submission: string, o: { clear: boolean }) => mpmFlagStable(client(), print, submission, o.clear)));

program.command('submit-report <submission>').description('report how a submission (pkgid or pkgurl) built for you')
  .requiredOption('--status <status>', 'ok or failed')
  .option('--arch <arch>', 'the architecture you built on', process.arch === 'arm64' ? 'aarch64' : 'x86_64')
  .option('--log <file>', 'the build log to attach (- for stdin)')
  .option('--message <text>', 'a one-line summary')
  .action(action(async (submission: string, o: { status: string; arch: string; log?: string; message?: string }) => mpmSubmitReport(client(), print, submission, o)));

program.command('comment <submission> [text]').description('comment on a submission (pkgid or pkgurl); without text, list its comments')
  .action(action(async (submission: string, text: string | undefined) => mpmComment(client(), print, submission, text)));

program.command('tag <submission> <tag>').description('tag a submission (pkgid or pkgurl)')
  .option('--remove', 'remove the tag instead', false)
  .action(action(async (submission: string, tag: string, o: { remove: boolean }) => mpmTag(client(), print, submission, tag, o.remove)));

program.command('vote <submission>').description('vote for a submission, pkgid or pkgurl (one vote per user)')
  .option('--remove', 'withdraw your vote', false)
  .action(action(async (submission: string, o: { remove: boolean }) => mpmVote(client(), print, submission, o.remove)));

// Installing (src/mpm/): each takes --root DIR (default /; the database under ROOT/var/lib/mpm/) and --json.
interface RootOpts { root: string; json?: boolean; yes?: boolean }
const installer = (o: RootOpts): CommandContext => {
  const asJson = json() || o.json === true;
  return {
    client, root: o.root, json: asJson, yes: o.yes === true, progress: !asJson && process.stderr.isTTY === true,
    print: (v, text) => process.stdout.write(asJson ? JSON.stringify(v, null, 2) + '\n' : text() + '\n'),
    stepDelayMs: Number(process.env.MPM_DEBUG_STEP_DELAY_MS) || undefined,
  };
};
const rooted = (c: Command) => c.option('--root <dir>', 'the root directory to act on', '/').option('--json', 'machine-readable output');
// install and upgrade from a signed mirror instead of the server (install/mirror-install.ts)
interface MirrorOpts { mirror?: string | boolean; publicKey?: string[]; contentKeys?: string; caFile?: string; requireProvenance?: boolean }
const fromMirror = (c: Command) => c
  .option('--mirror [url]', 'resolve and fetch from a signed mirror instead of the server (ftp://, ftps://, http(s)://; no URL: MPM_MIRROR or the mpm config)')
  .option('--public-key <key>', 'with --mirror or --require-provenance: a trusted signing key, ed25519:… (repeatable; env MPM_PUBLIC_KEYS)', (v: string, acc: string[] = []) => [...acc, v])
  .option('--content-keys <file>', 'with --mirror: the content keys file to decrypt with (env MPM_CONTENT_KEYS)')
  .option('--ca-file <file>', 'with an ftps:// or https:// mirror: PEM of CAs to trust besides the system\'s (env MPM_CA_FILE)')
  .option('--require-provenance', 'refuse any package whose signed build provenance does not match the plan (env MPM_REQUIRE_PROVENANCE, config require_provenance)');
const mirrorOf = (o: MirrorOpts) => (o.mirror === undefined ? undefined : { mirror: o.mirror, publicKey: o.publicKey, contentKeys: o.contentKeys, caFile: o.caFile });

fromMirror(rooted(program.command('install <spec...>'))).description('install NAME, NAME@VERSION, NAME@stable, a PKGID or a PKGURL, with its dependencies, as one transaction (with --mirror: NAME, NAME@VERSION or a PKGID)')
  .option('-y, --yes', 'do not ask for confirmation').option('--overwrite', 'replace files in the way that belong to no package')
  .option('--arch <arch>', 'architecture (default: this machine\'s)')
  .action(action(async (specs: string[], o: RootOpts & MirrorOpts & { overwrite?: boolean; arch?: string }) => mpmInstall(installer(o), specs, { overwrite: o.overwrite === true, arch: o.arch, mirror: mirrorOf(o), provenance: o })));

rooted(program.command('remove <name...>')).description('remove installed packages (changed config files stay)')
  .option('-y, --yes', 'do not ask for confirmation').option('--cascade', 'also remove the packages that depend on them')
  .option('--orphans', 'also remove dependencies nothing needs any more')
  .action(action(async (names: string[], o: RootOpts & { cascade?: boolean; orphans?: boolean }) => mpmRemove(installer(o), names, { cascade: o.cascade === true, orphans: o.orphans === true })));

fromMirror(rooted(program.command('upgrade [name...]'))).description('upgrade everything (or the named packages) to what the server (or with --mirror, the mirror\'s signed index) resolves now, as one transaction')
  .option('-y, --yes', 'do not ask for confirmation').option('--overwrite', 'replace files in the way that belong to no package')
  .option('--arch <arch>', 'architecture (default: that of the installed packages)')
  .action(action(async (names: string[], o: RootOpts & MirrorOpts & { overwrite?: boolean; arch?: string }) => mpmUpgrade(installer(o), names, { overwrite: o.overwrite === true, arch: o.arch, mirror: mirrorOf(o), provenance: o })));

rooted(program.command('list')).description('the installed packages')
  .action(action(async (o: RootOpts) => mpmList(installer(o))));

rooted(program.command('files <name>')).description('the files of an installed package')
  .action(action(async (name: string, o: RootOpts) => mpmFiles(installer(o), name)));

rooted(program.command('owner <path>')).description('the installed package that owns a path (inside the root)')
  .action(action(async (p: string, o: RootOpts) => mpmOwner(installer(o), p)));

rooted(program.command('verify [name...]')).description('check installed files: missing, changed, mode changed (exit 1 when any)')
  .action(action(async (names: string[], o: RootOpts) => mpmVerify(installer(o), names)));

await program.parseAsync(process.argv);
