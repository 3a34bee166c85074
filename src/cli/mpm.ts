#!/usr/bin/env node
// `mpm`: the Morphux package client. Talks only to the public HTTP API of a server
// (--server URL / MPM_SERVER, --token T / MPM_TOKEN); --json for machine-readable output.
import { Command } from 'commander';
import { action } from './cli-support.js';
import { mpmGet } from './commands/mpm-get.js';
import { MpmClient } from './mpm-client.js';

const program = new Command('mpm')
  .description('Morphux package client')
  .option('--server <url>', 'Morphux server (env MPM_SERVER)', process.env.MPM_SERVER ?? 'http://127.0.0.1:8080')
  .option('--token <token>', 'API token (env MPM_TOKEN)', process.env.MPM_TOKEN)
  .option('--json', 'machine-readable output', false)
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s.split('\n')[0] + '\n') });

const client = () => {
  const o = program.opts<{ server: string; token?: string }>();
  return new MpmClient({ server: o.server, token: o.token });
};
const json = () => program.opts<{ json: boolean }>().json;
const print = (v: unknown, text: () => string) => process.stdout.write(json() ? JSON.stringify(v, null, 2) + '\n' : text() + '\n');

program.command('query [text]').description('search packages by name and description')
  .option('--tag <tag>').option('--category <c>').option('--submitter <user>').option('--stable', 'only packages with a stable submission')
  .option('--sort <key>', 'name or updated', 'name')
  .action(action(async (text: string | undefined, o: { tag?: string; category?: string; submitter?: string; stable?: boolean; sort: string }) => {
    const q = new URLSearchParams();
    if (text) q.set('q', text);
    if (o.tag) q.set('tag', o.tag);
    if (o.category) q.set('category', o.category);
    if (o.submitter) q.set('submitter', o.submitter);
    if (o.stable) q.set('stable', 'true');
    q.set('sort', o.sort);
    const r = await client().json<{ items: Array<{ name: string; latest_version: string | null; description: string }>; total: number }>('GET', `/api/v1/ports?${q}`);
    print(r, () => r.items.map((i) => `${i.name} ${i.latest_version ?? '-'}  ${i.description}`).join('\n') || 'no packages found');
  }));

program.command('info <name-or-pkgid>').description('a package (name) or a submission (pkgid)')
  .action(action(async (what: string) => {
    if (/^[0-9]+$/.test(what)) {
      const r = await client().json<{ submission: { name: string; version: string; submitter: string; sha256: string }; status: { state: string; reason: string | null } }>('GET', `/api/v1/pkg/${what}`);
      print(r, () => `${r.submission.name} ${r.submission.version} (pkgid ${what}) by ${r.submission.submitter}: ${r.status.state}${r.status.reason ? ` (${r.status.reason})` : ''}\nsha256 ${r.submission.sha256}`);
      return;
    }
    const r = await client().json<{ name: string; maintainers: string[]; submissions: Array<{ pkgid: number; version: string; state: string; stable: boolean }> }>('GET', `/api/v1/ports/${encodeURIComponent(what)}`);
    print(r, () => [`${r.name} — maintainers: ${r.maintainers.join(', ') || 'none'}`, ...r.submissions.map((s) => `  ${s.pkgid}\t${s.version}\t${s.state}${s.stable ? '\tstable' : ''}`)].join('\n'));
  }));

program.command('get <spec>').description('download NAME, NAME@VERSION, NAME@stable or a PKGURL; checks its sha256')
  .option('-o, --output <file>', 'where to write the .tgz')
  .option('--extract <dir>', 'unpack into this folder instead')
  .action(action(async (spec: string, o: { output?: string; extract?: string }) => {
    const r = await mpmGet(client(), spec, o);
    print(r, () => `${r.name} ${r.version}: ${r.pkgurl} -> ${r.file ?? r.extracted} (sha256 ${r.sha256})`);
  }));

program.command('show-reports <pkgid>').description('build reports of a submission')
  .action(action(async (pkgid: string) => {
    const r = await client().json<{ items: Array<{ n: number; reporter: string; status: string; arch: string; reason: string | null; created_at: string }> }>('GET', `/api/v1/pkg/${encodeURIComponent(pkgid)}/reports`);
    print(r, () => r.items.map((i) => `#${i.n} ${i.created_at} ${i.reporter} ${i.arch} ${i.status}${i.reason ? ` (${i.reason})` : ''}`).join('\n') || 'no reports');
  }));

await program.parseAsync(process.argv);
