// The crash harness's workload: several concurrent clients, each a registered user with its own
// package repo, doing git pushes to new version branches, HTTP portpkg uploads, comments, user
// reports, tags and votes against the server, and journalling every operation the server
// acknowledged (push exit 0, 2xx answer). Operations in flight are counted by kind, so a kill can
// say what it interrupted; pause() waits until none is in flight.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { commitAll, editManifest, fixtureRepo, git, pushUrl, queuedLine } from '../test/support/git-client.js';
import { packFixture, upload } from '../test/support/portpkgs.js';
import { api } from '../test/support/test-server.js';
import type { Ack, AckKind } from './check-journal.js';
import type { SeededRandom } from './seeded-random.js';

export interface WorkloadClient {
  user: string;
  token: string;
  /** the package repo this user maintains (pushed to) and the package it uploads */
  repo: string;
  upload: string;
  wc: string;
}

export type OpKind = 'push' | 'upload' | 'comment' | 'report' | 'tag' | 'vote';
export const OP_KINDS: readonly OpKind[] = ['push', 'upload', 'comment', 'report', 'tag', 'vote'];
const META: OpKind[] = ['comment', 'comment', 'report', 'tag', 'vote'];
const TAGS = ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7'];

export class CrashWorkload {
  readonly journal: Ack[] = [];
  readonly inFlight = new Map<OpKind, number>();
  /** pkgids the server acknowledged: what meta operations aim at */
  readonly pkgids: number[] = [];
  submissionsStarted = 0;
  /** how many submissions (pushes + uploads) may have been started so far */
  submissionBudget = 0;
  failures = 0;
  /** the next operation a client starts, whatever the budget (a kill aimed at that kind) */
  force: OpKind | null = null;
  private paused = false;
  private stopped = false;
  private resumeWaiters: Array<() => void> = [];
  private loops: Promise<void>[] = [];
  private seq = 0;
  private version = new Map<string, number>();

  constructor(private readonly url: () => string, private readonly clients: WorkloadClient[], private readonly rnd: SeededRandom) {}

  /** A client per user, each with a working copy of the hello fixture named after its repo. */
  static async makeClient(user: string, token: string, n: number): Promise<WorkloadClient> {
    const repo = `crash${n}`;
    return { user, token, repo, upload: `upload${n}`, wc: await fixtureRepo('hello', (p) => { p.name = repo; }) };
  }

  start(): void {
    this.loops = this.clients.map((c) => this.loop(c));
  }

  async pause(): Promise<void> {
    this.paused = true;
    while ([...this.inFlight.values()].some((n) => n > 0)) await new Promise((r) => setTimeout(r, 50));
  }

  resume(): void {
    this.paused = false;
    for (const w of this.resumeWaiters.splice(0)) w();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resume();
    await Promise.all(this.loops);
    await Promise.all(this.clients.map((c) => rm(c.wc, { recursive: true, force: true })));
  }

  /** kinds of operations in flight now */
  busy(): OpKind[] {
    return [...this.inFlight].filter(([, n]) => n > 0).map(([k]) => k);
  }

  acked(kind: AckKind): number {
    return this.journal.filter((a) => a.kind === kind).length;
  }

  /** One acknowledged push per client (the first pkgids); run before any kill. */
  async seed(): Promise<void> {
    for (const c of this.clients) {
      if (!(await this.push(c))) throw new Error(`the first push of ${c.repo} was not acknowledged`);
    }
  }

  private async loop(c: WorkloadClient): Promise<void> {
    while (!this.stopped) {
      if (this.paused) {
        await new Promise<void>((r) => this.resumeWaiters.push(r));
        continue;
      }
      let op: OpKind;
      if (this.force) {
        op = this.force;
        this.force = null;
      } else {
        const submit = this.submissionsStarted < this.submissionBudget && this.rnd.next() < 0.3;
        op = submit ? (this.rnd.next() < 0.5 ? 'push' : 'upload') : this.rnd.pick(META);
      }
      if (op === 'push' || op === 'upload') this.submissionsStarted++;
      let ok = false;
      let counted = false;
      try {
        // preparing (a commit, a packed .tgz) is not in flight: only what talks to the server is
        const go = await this.prepare(c, op);
        this.inFlight.set(op, (this.inFlight.get(op) ?? 0) + 1);
        counted = true;
        ok = await go();
      } catch {
        ok = false;
      } finally {
        if (counted) this.inFlight.set(op, this.inFlight.get(op)! - 1);
      }
      if (!ok) {
        this.failures++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private async prepare(c: WorkloadClient, op: OpKind): Promise<() => Promise<boolean>> {
    switch (op) {
      case 'push': return this.preparePush(c);
      case 'upload': return this.prepareUpload(c);
      default: return () => this.meta(c, op);
    }
  }

  private nextVersion(name: string): string {
    const v = (this.version.get(name) ?? -1) + 1;
    this.version.set(name, v);
    return `1.${v}`;
  }

  private async push(c: WorkloadClient): Promise<boolean> {
    return (await this.preparePush(c))();
  }

  private async preparePush(c: WorkloadClient): Promise<() => Promise<boolean>> {
    const version = this.nextVersion(c.repo);
    await editManifest(c.wc, (p) => { p.version = version; p.description = `${c.repo} ${version}`; });
    await commitAll(c.wc, `${c.repo} ${version}`);
    const commit = (await git(c.wc, 'rev-parse', 'HEAD')).out.trim();
    return () => this.sendPush(c, version, commit);
  }

  private async sendPush(c: WorkloadClient, version: string, commit: string): Promise<boolean> {
    const r = await git(c.wc, 'push', pushUrl(this.url(), c.repo, c.user, c.token), `HEAD:refs/heads/version-${version}`);
    if (r.code !== 0) return false;
    const q = queuedLine(r.out);
    if (q) {
      this.journal.push({ kind: 'push', pkgid: q.pkgid, name: c.repo, version, commit });
      this.pkgids.push(q.pkgid);
    } else {
      this.journal.push({ kind: 'push_ref', name: c.repo, version, commit });
    }
    return true;
  }

  private async prepareUpload(c: WorkloadClient): Promise<() => Promise<boolean>> {
    const version = this.nextVersion(c.upload);
    const tgz = await packFixture('hello', (p) => { p.name = c.upload; p.version = version; p.description = `${c.upload} ${version}`; });
    return () => this.sendUpload(c, version, tgz);
  }

  private async sendUpload(c: WorkloadClient, version: string, tgz: Buffer): Promise<boolean> {
    const r = await upload({ url: this.url() }, tgz, c.token);
    if (r.status !== 201) return false;
    this.journal.push({ kind: 'upload', pkgid: r.json.pkgid, name: c.upload, version, sha256: createHash('sha256').update(tgz).digest('hex') });
    this.pkgids.push(r.json.pkgid);
    return true;
  }

  private async meta(c: WorkloadClient, op: OpKind): Promise<boolean> {
    const pkgid = this.rnd.pick(this.pkgids);
    const id = `${c.user}-${++this.seq}`;
    const base = this.url();
    switch (op) {
      case 'comment': {
        const text = `comment ${id}`;
        const r = await api(base, 'POST', `/api/v1/pkg/${pkgid}/comments`, { text }, c.token);
        if (r.status !== 201) return false;
        this.journal.push({ kind: 'comment', pkgid, n: r.json.n, text });
        return true;
      }
      case 'report': {
        const message = `report ${id}`;
        const r = await api(base, 'POST', `/api/v1/pkg/${pkgid}/reports`, { status: 'ok', arch: 'x86_64', message, log: `log of ${id}\n` }, c.token);
        if (r.status !== 201) return false;
        this.journal.push({ kind: 'report', pkgid, n: r.json.n, message });
        return true;
      }
      case 'tag': {
        const tag = this.rnd.pick(TAGS);
        const r = await api(base, 'PUT', `/api/v1/pkg/${pkgid}/tags/${tag}`, undefined, c.token);
        if (r.status !== 200) return false;
        this.journal.push({ kind: 'tag', pkgid, tag });
        return true;
      }
      default: {
        const r = await api(base, 'PUT', `/api/v1/pkg/${pkgid}/vote`, undefined, c.token);
        if (r.status !== 200 || r.json?.voted !== true) return false;
        this.journal.push({ kind: 'vote', pkgid, user: c.user });
        return true;
      }
    }
  }
}
