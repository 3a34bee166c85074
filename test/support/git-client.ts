// The real git client for tests: a working copy made from a fixture, commits with a fixed
// identity, and pushes whose output and exit code are returned (never thrown).
import { execa } from 'execa';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRefusalLine } from '../../src/domain/hook-protocol.js';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

const ENV = {
  GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.invalid',
};

export async function git(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  return gitWithin(120_000, cwd, ...args);
}

/** git with its own time limit (code -1 when it was killed for taking longer) */
export async function gitWithin(timeoutMs: number, cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const r = await execa('git', ['-c', 'credential.helper=', '-c', 'commit.gpgsign=false', ...args], { cwd, env: ENV, reject: false, all: true, timeout: timeoutMs });
  return { code: r.exitCode ?? -1, out: String(r.all ?? '') };
}

/** A one-commit working copy of a fixture, package.json edited by `edit`. */
export async function fixtureRepo(fixture: string, edit?: (p: any) => void): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `wc-${fixture}-`));
  await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
  if (edit) await editManifest(dir, edit);
  await git(dir, 'init', '-q', '-b', 'master');
  await commitAll(dir, fixture);
  return dir;
}

export async function editManifest(dir: string, edit: (p: any) => void): Promise<void> {
  const f = path.join(dir, 'package.json');
  const p = JSON.parse(await readFile(f, 'utf8'));
  edit(p);
  await writeFile(f, JSON.stringify(p, null, 2) + '\n');
}

export async function commitAll(dir: string, msg: string, ...extra: string[]): Promise<void> {
  await git(dir, 'add', '-A');
  const r = await git(dir, 'commit', '-q', '--allow-empty', '-m', msg, ...extra);
  if (r.code !== 0) throw new Error(`git commit: ${r.out}`);
}

export function pushUrl(base: string, name: string, user?: string, token?: string): string {
  const u = new URL(`${base}/${name}.git`);
  if (user) u.username = user;
  if (token) u.password = token;
  return u.toString();
}

export function queuedLine(out: string): { pkgid: number; pkgurl: string } | null {
  const m = /submission (\d+) queued: (\S+)/.exec(out);
  return m ? { pkgid: Number(m[1]), pkgurl: m[2] } : null;
}

/** The refusals in a push's output (its `remote: refused (<code>): <branch>: …` lines), in order:
 *  tests check their codes, never their words. */
export function refusalsIn(out: string): { code: string; message: string }[] {
  return out.split(/\r\n|\r|\n/).map(parseRefusalLine).filter((r) => r !== null);
}

/** Pushes fixture `fixture` (its package.json's version set to `version`) to its package's
 *  version-VERSION branch as user:token; the pkgid of the submission queued (throws otherwise). */
export async function pushFixture(base: string, fixture: string, version: string, user: string, token: string): Promise<number> {
  const wc = await fixtureRepo(fixture, (p) => { p.version = version; });
  try {
    const r = await git(wc, 'push', pushUrl(base, fixture, user, token), `HEAD:refs/heads/version-${version}`);
    const q = queuedLine(r.out);
    if (r.code !== 0 || !q) throw new Error(`push of ${fixture} ${version}: exit ${r.code}, no submission queued: ${r.out}`);
    return q.pkgid;
  } finally {
    await rm(wc, { recursive: true, force: true });
  }
}

export async function remoteHead(base: string, name: string, branch: string): Promise<string> {
  const r = await git(os.tmpdir(), 'ls-remote', `${base}/${name}.git`, `refs/heads/${branch}`);
  return r.out.split(/\s/)[0] ?? '';
}
