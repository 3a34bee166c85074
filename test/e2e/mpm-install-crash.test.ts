// mpm install / upgrade / remove SIGKILLed at random moments (seeded: MPM_CRASH_SEED), at least
// MPM_CRASH_KILLS (default 30) kills; after each, `mpm verify` (which first finishes or rolls back
// the journal) must pass, nothing of mpm's transaction may be left, and every path under the root
// must belong to the base system or to exactly the packages the database lists.
// The kill delay (0–300 ms) counts from the plan summary on stdout, the moment the command has its
// plan and starts downloading, staging and moving; MPM_DEBUG_STEP_DELAY_MS widens the moves.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seededRandom } from '../../reliability/seeded-random.js';
import { listing, startPlanServer, type PlanServer } from '../support/install-plan-server.js';
import { bundleClis, cliScript, runCli } from '../support/cli-bin.js';
import { baseRoot, greet, IGNORED, libgreet } from '../support/mpm-install-fixtures.js';

const KILLS = Number(process.env.MPM_CRASH_KILLS ?? 30);
const SEED = Number(process.env.MPM_CRASH_SEED ?? 20240601);

describe(`mpm transactions survive SIGKILL at any point (${KILLS} kills, seed ${SEED})`, function () {
  this.timeout(30 * 60_000);
  let srv: PlanServer;
  let tmp: string;
  let R: string;
  let base: Record<string, string>;
  const env = () => ({ MPM_SERVER: srv.url, MPM_TOKEN: '', MPM_DEBUG_STEP_DELAY_MS: '2' });

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'mpm-crash-'));
    srv = await startPlanServer();
    srv.add(await libgreet(1, 40));
    srv.add(await greet(2, '1.0'));
    srv.add(await greet(3, '1.1'), false);
    R = await baseRoot(tmp, 'root');
    base = await listing(R);
    await bundleClis();
  });
  after(async () => {
    await srv?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const readDb = async () => {
    const dir = path.join(R, 'var/lib/mpm/installed');
    const out = new Map<string, any>();
    if (!existsSync(dir)) return out;
    for (const n of await readdir(dir)) out.set(n.replace(/\.json$/, ''), JSON.parse(await readFile(path.join(dir, n), 'utf8')));
    return out;
  };

  /** Every path under R is the base's (unchanged) or owned: files by exactly one listed package, folders by at least one. */
  const checkOwnership = async () => {
    const db = await readDb();
    const owners = new Map<string, string[]>();
    for (const r of db.values()) for (const f of r.files) owners.set(f.path, [...(owners.get(f.path) ?? []), `${r.name}:${f.type}`]);
    const now = await listing(R, { ignore: IGNORED });
    for (const [p, what] of Object.entries(now)) {
      const o = owners.get(p) ?? [];
      if (base[p] !== undefined && o.length === 0) {
        expect(what, `${p} of the base changed`).to.equal(base[p]);
        continue;
      }
      if (what.startsWith('dir')) expect(o.length, `${p} (a folder) belongs to no package`).to.be.greaterThan(0);
      else expect(o, `${p} must belong to exactly one package`).to.have.length(1);
    }
    for (const p of Object.keys(base)) if (!IGNORED.some((i) => p === i || p.startsWith(`${i}/`))) expect(now[p], `${p} of the base is gone`).to.not.equal(undefined);
    if (db.has('greet')) expect(db.has('libgreet'), 'greet without its dependency').to.equal(true);
    const left = existsSync(path.join(R, 'var/lib/mpm')) ? await readdir(path.join(R, 'var/lib/mpm')) : [];
    expect(left.filter((n) => n !== 'installed'), 'mpm left transaction state behind').to.deep.equal([]);
  };

  const runToEnd = async (args: string[]) => {
    const r = await runCli('mpm', [...args, '--root', R, '--yes'], { env: env() });
    expect(r.code, `${args.join(' ')}: ${r.err}`).to.equal(0);
  };

  it('finishes or rolls back every interrupted transaction', async () => {
    const rnd = seededRandom(SEED);
    const seen = { kills: 0, completed: 0, journal: { none: 0, prepared: 0, committing: 0 } as Record<string, number>, byCommand: {} as Record<string, number> };
    const started = Date.now();
    for (let run = 0; seen.kills < KILLS; run++) {
      expect(run, 'too many runs without reaching the kill count').to.be.lessThan(KILLS * 6);
      // the commands take turns; a run without a kill first brings the root to where the command has work
      const want = (['install', 'upgrade', 'remove'] as const)[run % 3];
      const g0 = (await readDb()).get('greet');
      if (want === 'install' && g0) await runToEnd(['remove', 'greet', '--orphans']);
      if (want !== 'install' && !g0) await runToEnd(['install', 'greet']);
      const g = (await readDb()).get('greet');
      let args: string[];
      if (want === 'install') args = ['install', 'greet'];
      else if (want === 'upgrade') {
        srv.current.set('greet', g.pkgid === 2 ? 3 : 2); // up or down: the plan changes either way
        args = ['upgrade'];
      } else args = ['remove', 'greet', '--orphans'];
      const delay = rnd.int(0, 300);
      const child = spawn(process.execPath, [cliScript('mpm'), ...args, '--root', R, '--yes'], { env: { ...process.env, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c) => (err += c));
      let timer: NodeJS.Timeout | undefined;
      child.stdout.once('data', () => (timer = setTimeout(() => child.kill('SIGKILL'), delay)));
      child.stdout.resume();
      const [code, signal] = await new Promise<[number | null, string | null]>((ok) => child.on('exit', (c, s) => ok([c, s])));
      clearTimeout(timer);
      if (signal === 'SIGKILL') {
        seen.kills++;
        seen.byCommand[args[0]] = (seen.byCommand[args[0]] ?? 0) + 1;
        let state = 'none';
        try {
          state = JSON.parse(await readFile(path.join(R, 'var/lib/mpm/journal.json'), 'utf8')).state;
        } catch { /* none */ }
        seen.journal[state]++;
      } else {
        expect(code, `${args.join(' ')}: ${err}`).to.equal(0);
        seen.completed++;
      }
      const v = await runCli('mpm', ['verify', '--root', R, '--json'], { env: env() });
      expect(v.code, `verify after ${args.join(' ')} (${signal ?? 'exit'} after ${delay} ms): ${v.out}${v.err}`).to.equal(0);
      await checkOwnership();
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`      ${seen.kills} kills (${JSON.stringify(seen.byCommand)}), ${seen.completed} completed runs; journal at the kill: ${JSON.stringify(seen.journal)}; ${seconds} s`);
    expect(seen.journal.prepared + seen.journal.committing, 'no kill landed inside a transaction').to.be.greaterThan(0);
  });
});
