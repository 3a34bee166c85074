// src/lib/git.ts, the one git runner, against real git: the clean environment (nothing GIT_* of
// the server's own environment reaches git; what the caller passes does), the one-shot runner's
// answers and typed errors, and a long-running git killed with its process group.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isMorphuxError } from '../../src/domain/errors.js';
import { gitEnv, killGitGroup, runGit, spawnGit } from '../../src/lib/git.js';

/** What the server's environment might hold where git must not see it. */
const STRAY = {
  GIT_DIR: '/nonexistent/bogus.git',
  GIT_WORK_TREE: '/nonexistent/worktree',
  GIT_INDEX_FILE: '/nonexistent/index',
  GIT_OBJECT_DIRECTORY: '/nonexistent/objects',
  GIT_CONFIG_PARAMETERS: "'user.name'='leaked'",
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'user.email',
  GIT_CONFIG_VALUE_0: 'leaked@example.invalid',
  MORPHUX_TEST_NOT_FOR_GIT: 'x',
};

/** The processes (not zombies) of process group pgid, from /proc. */
function liveInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') out.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) expect.fail(`timed out waiting until ${what}`);
  }
}

const readAll = async (s: Readable) => {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** `env` as git's shell aliases see it: the whole environment git was given (and passes on). */
const envOf = (text: string) => new Map(text.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('lib/git: the one git runner', () => {
  let root: string;
  let repo: string;
  let plain: string;
  const saved: Record<string, string | undefined> = {};

  before(async () => {
    root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'morphux-lib-git-')));
    repo = path.join(root, 'repo');
    plain = path.join(root, 'plain');
    await mkdir(plain);
    await runGit(['init', '-q', repo]);
  });
  beforeEach(() => {
    for (const [k, v] of Object.entries(STRAY)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
  });
  afterEach(() => {
    for (const k of Object.keys(STRAY)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE and GIT_CONFIG_* of the server\'s environment do not reach git', async () => {
    expect((await runGit(['rev-parse', '--git-dir'], { cwd: repo, encoding: 'text' })).stdout).to.equal('.git');
    expect((await runGit(['rev-parse', '--show-toplevel'], { cwd: repo, encoding: 'text' })).stdout).to.equal(repo);
    expect((await runGit(['rev-parse', '--git-path', 'index'], { cwd: repo, encoding: 'text' })).stdout).to.equal('.git/index');
    expect((await runGit(['rev-parse', '--git-path', 'objects'], { cwd: repo, encoding: 'text' })).stdout).to.equal('.git/objects');
    for (const key of ['user.name', 'user.email']) {
      const r = await runGit(['config', '--get', key], { cwd: repo, reject: false });
      expect(r.stdout.toString(), key).to.not.contain('leaked');
    }
    // the long-running spawn gives the same environment
    const child = spawnGit(['rev-parse', '--absolute-git-dir'], { cwd: repo });
    const [out] = await Promise.all([readAll(child.stdout!), child]);
    expect(out.trim()).to.equal(path.join(repo, '.git'));
  });

  it('gives git PATH, HOME, the C locale and what the caller passes, nothing else of the server', async () => {
    const alias = ['-c', 'alias.showenv=!env'];
    const seen = envOf((await runGit([...alias, 'showenv'], { cwd: plain, encoding: 'text' })).stdout);
    // (git itself passes its own -c options on to what it runs, as GIT_CONFIG_PARAMETERS)
    for (const k of Object.keys(STRAY)) expect(seen.get(k) ?? '', k).to.not.contain(STRAY[k as keyof typeof STRAY]);
    for (const k of Object.keys(STRAY).filter((k) => k !== 'GIT_CONFIG_PARAMETERS')) expect(seen.has(k), k).to.equal(false);
    expect(seen.get('PATH')?.endsWith(`:${process.env.PATH}`), 'PATH (git puts its exec path first)').to.equal(true);
    expect(seen.get('HOME')).to.equal(process.env.HOME);
    expect(seen.get('LC_ALL')).to.equal('C');
    expect(seen.get('GIT_TERMINAL_PROMPT')).to.equal('0');
    expect(Object.keys(gitEnv()).sort()).to.deep.equal(['GIT_TERMINAL_PROMPT', 'HOME', 'LANG', 'LC_ALL', 'PATH', ...(process.env.TZ ? ['TZ'] : [])].sort());

    // the push quarantine variables, passed explicitly, do reach git
    const objects = path.join(repo, '.git', 'objects');
    const quarantine = path.join(objects, 'incoming-test');
    await mkdir(quarantine, { recursive: true });
    const q = { GIT_OBJECT_DIRECTORY: quarantine, GIT_ALTERNATE_OBJECT_DIRECTORIES: objects, GIT_QUARANTINE_PATH: quarantine };
    const passed = envOf((await runGit([...alias, 'showenv'], { cwd: plain, env: q, encoding: 'text' })).stdout);
    for (const [k, v] of Object.entries(q)) expect(passed.get(k), k).to.equal(v);
    expect((await runGit(['rev-parse', '--git-path', 'objects'], { cwd: repo, env: q, encoding: 'text' })).stdout).to.equal(quarantine);
    const blob = (await runGit(['hash-object', '-w', '--stdin'], { cwd: repo, env: q, input: 'quarantined\n', encoding: 'text' })).stdout;
    expect(readdirSync(path.join(quarantine, blob.slice(0, 2)))).to.deep.equal([blob.slice(2)]);
    // and to a long-running git
    const child = spawnGit([...alias, 'showenv'], { cwd: plain, env: q });
    const [text] = await Promise.all([readAll(child.stdout!), child]);
    expect(envOf(text).get('GIT_QUARANTINE_PATH')).to.equal(quarantine);
    expect(envOf(text).has('GIT_DIR')).to.equal(false);
  });

  it('a failing git rejects with code infrastructure and its stderr; accepted exit codes are answers', async () => {
    let err: unknown;
    try {
      await runGit(['rev-parse', '--verify', '--end-of-options', 'refs/heads/none'], { cwd: repo });
    } catch (e) {
      err = e;
    }
    expect(isMorphuxError(err, 'infrastructure'), String(err)).to.equal(true);
    const data = (err as { data: { stderr: string; exitCode: number; args: string[] } }).data;
    expect(data.exitCode).to.equal(128);
    expect(data.stderr).to.match(/fatal: Needed a single revision/);
    expect((err as Error).message).to.match(/^git rev-parse failed: .*Needed a single revision/);

    const answered = await runGit(['config', '--get', 'no.such'], { cwd: repo, reject: false });
    expect(answered.exitCode).to.equal(1);
    expect((await runGit(['config', '--get', 'no.such'], { cwd: repo, okExitCodes: [0, 1] })).exitCode).to.equal(1);

    // a git that cannot even start (no such folder) fails, reject or not
    let startErr: unknown;
    await runGit(['status'], { cwd: path.join(root, 'none'), reject: false }).catch((e) => { startErr = e; });
    expect(isMorphuxError(startErr, 'infrastructure'), String(startErr)).to.equal(true);
  });

  it('gives bytes or text, takes input, and stops at maxBuffer and timeout', async () => {
    const bytes = await runGit(['hash-object', '--stdin'], { input: Buffer.from('x\n') });
    expect(Buffer.isBuffer(bytes.stdout)).to.equal(true);
    expect(bytes.stdout.toString()).to.match(/^[0-9a-f]{40}\n$/);
    const text = await runGit(['hash-object', '--stdin'], { input: 'x\n', encoding: 'text' });
    expect(text.stdout).to.equal(bytes.stdout.toString().trim());

    const big = await runGit(['-c', 'alias.big=!yes | head -c 100000', 'big'], { cwd: plain, maxBuffer: 1000 }).catch((e: unknown) => e);
    expect(isMorphuxError(big, 'too_large'), String(big)).to.equal(true);
    // the sleep under git holds its output: the whole group goes at the timeout, not only git
    const t0 = Date.now();
    const slow = await runGit(['-c', 'alias.slow=!sleep 30; true', 'slow'], { cwd: plain, timeout: 200 }).catch((e: unknown) => e);
    expect(isMorphuxError(slow, 'timeout'), String(slow)).to.equal(true);
    expect(Date.now() - t0).to.be.below(5000);
  });

  it('a long-running git in its own group is killed with everything it started', async () => {
    // git runs the alias through sh, which runs sleep: three processes in git's group
    const child = spawnGit(['-c', 'alias.hang=!sleep 60; true', 'hang'], { cwd: plain, group: true });
    const pgid = child.pid!;
    await until('git, sh and sleep run in the group', () => liveInGroup(pgid).length >= 3);
    expect(liveInGroup(pgid)).to.include(pgid); // git leads a group of its own
    killGitGroup(child);
    const result = await child;
    expect(result.signal).to.equal('SIGKILL');
    await until('the whole group is gone', () => liveInGroup(pgid).length === 0);
    killGitGroup(child); // once it has exited: nothing, no throw
  });
});
