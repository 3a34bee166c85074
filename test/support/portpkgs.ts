// Portpkgs for API tests without a VM: a fixture packed as an upload, and the documented test
// shortcut for the builder's outcome (updateStatus to good or failed, as the worker would).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packDir } from '../../src/mpm/pack-dir.js';
import { updateStatus } from '../../src/store/changes/update-status.js';
import { editManifest, FIXTURES } from './git-client.js';
import type { TestInstance } from './test-server.js';

/** A fixture packed as a .tgz, package.json edited by `edit`. */
export async function packFixture(fixture: string, edit?: (p: any) => void): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `pack-${fixture}-`));
  try {
    await cp(path.join(FIXTURES, fixture), dir, { recursive: true });
    if (edit) await editManifest(dir, edit);
    return await packDir(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** POST /api/v1/submit (to a server's url, or through an instance's own `request`); status and parsed answer. */
export async function upload(s: Pick<TestInstance, 'url'> & Partial<Pick<TestInstance, 'request'>>, tgz: Buffer, token?: string, query = ''): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/gzip' };
  if (token) headers.authorization = `Bearer ${token}`;
  const init: RequestInit = { method: 'POST', headers, body: new Uint8Array(tgz) };
  const res = await (s.request ? s.request(`/api/v1/submit${query}`, init) : fetch(`${s.url}/api/v1/submit${query}`, init));
  const text = await res.text();
  let json: any = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json };
}

/** Uploads name@version and marks it built (good unless told), without a VM. */
export async function goodSubmission(s: Pick<TestInstance, 'url' | 'request' | 'ctx'>, token: string, name: string, version: string, state: 'good' | 'failed' = 'good'): Promise<number> {
  const r = await upload(s, await packFixture('hello', (p) => { p.name = name; p.version = version; }), token);
  if (r.status !== 201) throw new Error(`upload ${name} ${version}: ${r.status} ${JSON.stringify(r.json)}`);
  await markBuilt(s, r.json.pkgid, state);
  return r.json.pkgid as number;
}

export async function markBuilt(s: Pick<TestInstance, 'ctx'>, pkgid: number, state: 'good' | 'failed'): Promise<void> {
  await updateStatus(s.ctx.store, pkgid, {
    message: `test: ${state}`, actor: 'builder',
    change: (st) => { st.state = state; st.reason = state === 'failed' ? 'build' : null; },
  });
}
