// One rule per action, whatever the door: every action of service/authorize.ts's table, run
// through every door that offers it (the JSON API, the website's forms, the mpm client, git push)
// by every kind of caller, must end the same way: allowed, or refused with the same error code;
// allowed, it has the action's effect; refused, nothing in the store, the accounts or the repos
// changed. The expected outcomes are written here, not read from the code. A new action in the
// table, or a new form on the website, without a row here fails the first test.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WEB_ACTIONS } from '../../src/server/routes/web-actions.js';
import { RULES, type ActionName } from '../../src/service/authorize.js';
import type { CommentDoc, BuildReport } from '../../src/domain/submission.js';
import type { FlagsDoc, TagsDoc, VotesDoc } from '../../src/store/layout/read-submission.js';
import { setStableFlag } from '../../src/store/changes/set-stable-flag.js';
import { setTag } from '../../src/store/changes/set-tag.js';
import { setVote } from '../../src/store/changes/set-vote.js';
import { storePaths } from '../../src/store/layout/store-paths.js';
import { cliErrorCode, runCli } from '../support/cli-bin.js';
import { commitAll, editManifest, FIXTURES, fixtureRepo, git, pushUrl } from '../support/git-client.js';
import { markBuilt, packFixture, upload } from '../support/portpkgs.js';
import { storeSnapshot } from '../support/refusals.js';
import { api, startTestServer, type TestServer } from '../support/test-server.js';
import { postForm, postSignIn, signIn, type WebSignIn } from '../support/web-session.js';

const WHO = ['anonymous', 'user', 'other', 'tagger', 'maintainer', 'owner', 'admin', 'worker', 'expired', 'revoked'] as const;
type Who = (typeof WHO)[number];
const NAMES: Record<Exclude<Who, 'anonymous'>, string> = {
  user: 'ursula', other: 'oscar', tagger: 'tina', maintainer: 'mike', owner: 'olga', admin: 'ada', worker: 'wendy', expired: 'eve', revoked: 'rob',
};
type Outcome = 'ok' | string;
type Door = 'api' | 'web' | 'mpm' | 'git' | 'sign-in';

const U = 'unauthenticated';
const F = 'forbidden';
/** any signed-in user may; a worker's token opens the worker API only */
const anyUser: Record<Who, Outcome> = { anonymous: U, user: 'ok', other: 'ok', tagger: 'ok', maintainer: 'ok', owner: 'ok', admin: 'ok', worker: F, expired: U, revoked: U };
const maintainers = { ...anyUser, user: F, other: F, tagger: F };

interface Trial {
  who: Who;
  name: string;
  token: string;
  n: number;
}
interface Row {
  action: ActionName;
  expect: Record<Who, Outcome>;
  prepare?: (t: Trial) => Promise<void>;
  effect: (t: Trial) => Promise<boolean>;
  doors: Partial<Record<Door, (t: Trial) => Promise<Outcome>>>;
}

describe('one rule per action: every door, every caller, the same outcome and effect', function () {
  this.timeout(600_000);
  let s: TestServer;
  let pkgid = 0;
  let wc = '';
  let work = '';
  const tokens: Partial<Record<Who, string>> = {};
  /** each caller's website session, or how its sign-in was refused (the door's answer to it) */
  const web: Partial<Record<Who, WebSignIn | { refused: Outcome }>> = {};
  let counter = 0;

  // ---- how each door is called and what its answer means ----
  const apiOutcome = async (method: string, p: string, who: Who, body?: unknown): Promise<Outcome> => {
    const r = await api(s.url, method, p, body, tokens[who]);
    return r.status < 300 ? 'ok' : r.json?.error?.code ?? `http ${r.status}`;
  };
  const webOutcome = async (action: string, who: Who, fields: Record<string, string>): Promise<Outcome> => {
    const session = web[who]!;
    if ('refused' in session) return session.refused; // the door's answer to this caller is its sign-in's
    const r = await postForm(s.url, `/submissions/${pkgid}/${action}`, { ...fields, csrf: session.csrf }, { cookie: session.cookie, headers: { origin: s.url } });
    return r.status === 303 ? 'ok' : r.code ?? `http ${r.status}`;
  };
  const mpmOutcome = async (who: Who, args: string[]): Promise<Outcome> => {
    const r = await runCli('mpm', args, { cwd: work, env: { MPM_SERVER: s.url, MPM_TOKEN: tokens[who] ?? '', MPM_RECORD: path.join(work, 'fetched.json') } });
    return r.code === 0 ? 'ok' : cliErrorCode(r) ?? `exit ${r.code}: ${r.err}`;
  };
  const pushOutcome = async (t: Trial): Promise<Outcome> => {
    await editManifest(wc, (p) => { p.version = `5.${t.n}`; });
    await commitAll(wc, `5.${t.n}`);
    const url = t.who === 'anonymous' ? pushUrl(s.url, 'tbl') : pushUrl(s.url, 'tbl', t.name, t.token);
    const r = await git(wc, 'push', '-q', url, `HEAD:refs/heads/version-5.${t.n}`);
    if (r.code === 0) return 'ok';
    if (/\b403\b/.test(r.out)) return F;
    if (/\b401\b|Authentication|could not read Username/i.test(r.out)) return U;
    return `git: ${r.out}`;
  };

  // ---- what each action does, read back from the store and the account files ----
  const read = <T>(p: string) => s.ctx.store.readJson<T>(p);
  const reportsOf = async () => {
    const dir = s.ctx.store.abs(storePaths.reports(pkgid));
    const out: BuildReport[] = [];
    for (const f of (await readdir(dir).catch(() => [])).filter((x) => x.endsWith('.json'))) out.push(JSON.parse(await readFile(path.join(dir, f), 'utf8')));
    return out;
  };
  const commentsOf = async () => {
    const dir = s.ctx.store.abs(storePaths.comments(pkgid));
    const out: CommentDoc[] = [];
    for (const f of (await readdir(dir).catch(() => [])).filter((x) => x.endsWith('.json'))) out.push(JSON.parse(await readFile(path.join(dir, f), 'utf8')));
    return out;
  };
  const pkgDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tbl-'));
    await cp(path.join(FIXTURES, 'hello'), dir, { recursive: true });
    return dir;
  };

  const ROWS: Row[] = [
    {
      action: 'session.create', expect: anyUser,
      effect: async () => true,
      doors: {
        'sign-in': async (t) => {
          if (t.who === 'anonymous') return U; // nobody to sign in as: no session, every form answers 401
          const r = await postSignIn(s.url, t.name, t.token);
          return r.status === 303 ? 'ok' : r.code ?? `http ${r.status}`;
        },
      },
    },
    {
      action: 'comment.add', expect: anyUser,
      effect: async (t) => (await commentsOf()).some((c) => c.text === `c${t.n}` && c.author === t.name),
      doors: {
        api: (t) => apiOutcome('POST', `/api/v1/pkg/${pkgid}/comments`, t.who, { text: `c${t.n}` }),
        web: (t) => webOutcome('comment', t.who, { text: `c${t.n}` }),
        mpm: (t) => mpmOutcome(t.who, ['comment', String(pkgid), `c${t.n}`]),
      },
    },
    {
      action: 'vote.set', expect: anyUser,
      prepare: async (t) => { await setVote(s.ctx.store, pkgid, t.name, false); },
      effect: async (t) => !!(await read<VotesDoc>(storePaths.votes(pkgid)))?.voters.some((v) => v.user === t.name),
      doors: {
        api: (t) => apiOutcome('PUT', `/api/v1/pkg/${pkgid}/vote`, t.who),
        web: (t) => webOutcome('vote', t.who, { on: 'true' }),
        mpm: (t) => mpmOutcome(t.who, ['vote', String(pkgid)]),
      },
    },
    {
      action: 'tag.add', expect: anyUser,
      effect: async (t) => !!(await read<TagsDoc>(storePaths.tags(pkgid)))?.tags.some((x) => x.tag === `a${t.n}`),
      doors: {
        api: (t) => apiOutcome('PUT', `/api/v1/pkg/${pkgid}/tags/a${t.n}`, t.who),
        web: (t) => webOutcome('tag', t.who, { tag: `a${t.n}`, on: 'true' }),
        mpm: (t) => mpmOutcome(t.who, ['tag', String(pkgid), `a${t.n}`]),
      },
    },
    {
      action: 'tag.remove', expect: { ...anyUser, user: F, other: F },
      prepare: async (t) => { await setTag(s.ctx.store, pkgid, NAMES.tagger, `r${t.n}`, true); },
      effect: async (t) => !(await read<TagsDoc>(storePaths.tags(pkgid)))?.tags.some((x) => x.tag === `r${t.n}`),
      doors: {
        api: (t) => apiOutcome('DELETE', `/api/v1/pkg/${pkgid}/tags/r${t.n}`, t.who),
        web: (t) => webOutcome('tag', t.who, { tag: `r${t.n}`, on: 'false' }),
        mpm: (t) => mpmOutcome(t.who, ['tag', String(pkgid), `r${t.n}`, '--remove']),
      },
    },
    {
      action: 'report.add', expect: anyUser,
      effect: async (t) => (await reportsOf()).some((r) => r.message === `m${t.n}` && r.reporter === t.name),
      doors: {
        api: (t) => apiOutcome('POST', `/api/v1/pkg/${pkgid}/reports`, t.who, { status: 'ok', arch: 'x86_64', message: `m${t.n}` }),
        web: (t) => webOutcome('report', t.who, { status: 'ok', arch: 'x86_64', message: `m${t.n}` }),
        mpm: (t) => mpmOutcome(t.who, ['submit-report', String(pkgid), '--status', 'ok', '--arch', 'x86_64', '--message', `m${t.n}`]),
      },
    },
    {
      action: 'stable.set', expect: maintainers,
      prepare: async () => { await setStableFlag(s.ctx.store, pkgid, NAMES.admin, false); },
      effect: async () => (await read<FlagsDoc>(storePaths.flags(pkgid)))?.stable === true,
      doors: {
        api: (t) => apiOutcome('POST', `/api/v1/pkg/${pkgid}/flags/stable`, t.who),
        web: (t) => webOutcome('flag-stable', t.who, { on: 'true' }),
        mpm: (t) => mpmOutcome(t.who, ['flag-stable', String(pkgid)]),
      },
    },
    {
      action: 'submission.upload', expect: anyUser,
      effect: async (t) => !!(await s.ctx.catalog.get('tbl'))?.submissions.some((e) => e.version === `2.${t.n}` && e.submitter === t.name),
      doors: {
        api: async (t) => {
          const r = await upload(s, await packFixture('hello', (p) => { p.name = 'tbl'; p.version = `2.${t.n}`; }), tokens[t.who]);
          return r.status < 300 ? 'ok' : r.json?.error?.code;
        },
        mpm: async (t) => {
          const dir = await pkgDir();
          await editManifest(dir, (p) => { p.name = 'tbl'; p.version = `2.${t.n}`; });
          return mpmOutcome(t.who, ['submit', dir]);
        },
      },
    },
    {
      action: 'package.create', expect: anyUser,
      effect: async (t) => !!(await s.ctx.owners.get(`new${t.n}`)),
      doors: { api: (t) => apiOutcome('POST', '/api/v1/repos', t.who, { name: `new${t.n}` }) },
    },
    {
      action: 'push', expect: maintainers,
      effect: async (t) => (await git(wc, 'ls-remote', pushUrl(s.url, 'tbl'), `refs/heads/version-5.${t.n}`)).out.includes(`version-5.${t.n}`),
      doors: { git: pushOutcome },
    },
    {
      action: 'maintainer.set', expect: { ...maintainers, maintainer: F },
      prepare: async () => {
        if ((await s.ctx.owners.get('tbl'))?.maintainers.includes('xena')) await s.ctx.owners.setMaintainer('tbl', 'xena', false);
      },
      effect: async () => !!(await s.ctx.owners.get('tbl'))?.maintainers.includes('xena'),
      doors: { api: (t) => apiOutcome('PUT', '/api/v1/ports/tbl/maintainers/xena', t.who) },
    },
    {
      action: 'user.create', expect: { ...anyUser, user: F, other: F, tagger: F, maintainer: F, owner: F },
      effect: async (t) => !!(await s.ctx.users.get(`nu${t.n}`)),
      doors: { api: (t) => apiOutcome('POST', '/api/v1/users', t.who, { name: `nu${t.n}` }) },
    },
    {
      action: 'token.list', expect: anyUser,
      effect: async () => true,
      doors: { api: (t) => apiOutcome('GET', '/api/v1/tokens', t.who) },
    },
    {
      action: 'token.add', expect: anyUser,
      effect: async (t) => (await s.ctx.users.listTokens(t.name)).some((x) => x.name === `tk${t.n}`),
      doors: { api: (t) => apiOutcome('POST', '/api/v1/tokens', t.who, { name: `tk${t.n}` }) },
    },
    {
      action: 'token.revoke', expect: anyUser,
      prepare: async (t) => { if (await s.ctx.users.get(t.name)) await s.ctx.users.addToken(t.name, `rv${t.n}`); },
      effect: async (t) => !(await s.ctx.users.listTokens(t.name)).some((x) => x.name === `rv${t.n}`),
      doors: { api: (t) => apiOutcome('DELETE', `/api/v1/tokens/rv${t.n}`, t.who) },
    },
    {
      // admitted, a worker's request for binaries that do not exist is a 404
      action: 'worker.job', expect: { ...anyUser, user: F, other: F, tagger: F, maintainer: F, owner: F, admin: F, worker: 'not_found' },
      effect: async () => true,
      doors: { api: (t) => apiOutcome('GET', '/internal/worker/binaries/99999999/x86_64', t.who) },
    },
  ];

  /** Everything a refused action must leave as it was: the store, the accounts, the maintainers, the repos. */
  const snapshot = async () => {
    const files = async (dir: string) => {
      const h = createHash('sha256');
      for (const f of (await readdir(dir).catch(() => [])).sort()) h.update(f).update(await readFile(path.join(dir, f)).catch(() => Buffer.alloc(0)));
      return h.digest('hex');
    };
    return {
      store: await storeSnapshot(s.data),
      users: await files(path.join(s.data, 'users')),
      packages: await files(path.join(s.data, 'packages')),
      repos: (await readdir(path.join(s.data, 'repos'))).sort().join(' '),
    };
  };

  before(async () => {
    s = await startTestServer({ worker: false });
    work = await mkdtemp(path.join(os.tmpdir(), 'doors-'));
    const made = async (who: Exclude<Who, 'anonymous'>, extra: Record<string, unknown> = {}) => {
      const r = await api(s.url, 'POST', '/api/v1/users', { name: NAMES[who], ...extra }, s.adminToken);
      expect(r.status, JSON.stringify(r.json)).to.equal(201);
      tokens[who] = r.json.token;
    };
    for (const who of ['user', 'other', 'tagger', 'maintainer', 'owner', 'expired', 'revoked'] as const) await made(who);
    await made('admin', { admin: true });
    await made('worker', { worker: true });
    await s.ctx.users.create('xena', false);
    expect((await api(s.url, 'POST', '/api/v1/repos', { name: 'tbl' }, tokens.owner)).status).to.equal(201);
    expect((await api(s.url, 'PUT', `/api/v1/ports/tbl/maintainers/${NAMES.maintainer}`, undefined, tokens.owner)).status).to.equal(200);
    const up = await upload(s, await packFixture('hello', (p) => { p.name = 'tbl'; p.version = '1.0'; }), tokens.owner);
    expect(up.status).to.equal(201);
    pkgid = up.json.pkgid;
    await markBuilt(s, pkgid, 'good'); // only a good build can be flagged stable
    wc = await fixtureRepo('hello', (p) => { p.name = 'tbl'; });
    // a revoked token, and one that has expired: the website door signs in with it as its holder would
    const rv = await api(s.url, 'POST', '/api/v1/tokens', { name: 'soon-revoked' }, tokens.revoked);
    await api(s.url, 'DELETE', '/api/v1/tokens/soon-revoked', undefined, tokens.revoked);
    tokens.revoked = rv.json.token;
    const ex = await api(s.url, 'POST', '/api/v1/tokens', { name: 'short', expires_at: new Date(Date.now() + 1500).toISOString() }, tokens.expired);
    tokens.expired = ex.json.token;
    await new Promise((r) => setTimeout(r, 1700));
    for (const who of WHO) {
      if (who === 'anonymous') web[who] = { cookie: '', csrf: '' };
      else {
        const tried = await postSignIn(s.url, NAMES[who], tokens[who]!);
        web[who] = tried.status === 303 ? await signIn(s.url, NAMES[who], tokens[who]!) : { refused: tried.code ?? (tried.status === 401 ? U : `http ${tried.status}`) };
      }
    }
  });
  after(async () => s && (await s.close()));

  it('has a row for every action of the rule table, and a website form for each row that has one', () => {
    expect(ROWS.map((r) => r.action).sort()).to.deep.equal(Object.keys(RULES).sort());
    const formActions: Record<string, ActionName[]> = {
      comment: ['comment.add'], vote: ['vote.set'], tag: ['tag.add', 'tag.remove'], report: ['report.add'], 'flag-stable': ['stable.set'],
    };
    expect([...WEB_ACTIONS].sort(), 'a new website form needs rows here').to.deep.equal(Object.keys(formActions).sort());
    expect(ROWS.filter((r) => r.doors.web).map((r) => r.action).sort()).to.deep.equal(Object.values(formActions).flat().sort());
  });

  for (const row of [
    'session.create', 'comment.add', 'vote.set', 'tag.add', 'tag.remove', 'report.add', 'stable.set', 'submission.upload', 'package.create',
    'push', 'maintainer.set', 'user.create', 'token.list', 'token.add', 'token.revoke', 'worker.job',
  ] as const) {
    it(`${row}: the same outcome through every door, for every caller`, async () => {
      const r = ROWS.find((x) => x.action === row)!;
      const got: string[] = [];
      const want: string[] = [];
      for (const [door, call] of Object.entries(r.doors) as Array<[Door, (t: Trial) => Promise<Outcome>]>) {
        for (const who of WHO) {
          const t: Trial = { who, name: who === 'anonymous' ? '' : NAMES[who], token: tokens[who] ?? '', n: ++counter };
          await r.prepare?.(t);
          const before = await snapshot();
          const outcome = await call(t);
          got.push(`${door} ${who}: ${outcome}`);
          want.push(`${door} ${who}: ${r.expect[who]}`);
          if (outcome === 'ok') expect(await r.effect(t), `${row} through ${door} by ${who} had no effect`).to.equal(true);
          else expect(await snapshot(), `${row} through ${door} by ${who} was refused but changed something`).to.deep.equal(before);
        }
      }
      expect(got).to.deep.equal(want);
    });
  }
});
