// A test shortcut standing in for the builder: pushes a fixture to a version branch of a test
// server (worker off, so nothing builds), then records the build outcome the VM would have:
// status good and a binaries archive made here from `files`, through store/update-status.ts.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { updateStatus } from '../../src/store/update-status.js';
import { fixtureRepo, git, pushUrl, queuedLine } from './git-client.js';
import { api, newUser, type TestServer } from './test-server.js';

/** Creates a maintainer and the package repo once per server and name. */
export async function maintainer(s: TestServer, name: string): Promise<{ user: string; token: string }> {
  const user = `m${Math.random().toString(36).slice(2, 8)}`;
  const token = await newUser(s, user);
  const r = await api(s.url, 'POST', '/api/v1/repos', { name }, token);
  if (r.status !== 201) throw new Error(`POST /api/v1/repos ${name}: ${r.status}`);
  return { user, token };
}

/** Pushes fixture `hello` as NAME@VERSION and marks it built good with these installed files. */
export async function goodSubmission(s: TestServer, who: { user: string; token: string }, name: string, version: string, files: Record<string, Buffer | string>): Promise<number> {
  const wc = await fixtureRepo('hello', (p) => { p.name = name; p.version = version; });
  const r = await git(wc, 'push', pushUrl(s.url, name, who.user, who.token), `HEAD:refs/heads/version-${version}`);
  await rm(wc, { recursive: true, force: true });
  const q = queuedLine(r.out);
  if (!q) throw new Error(`push of ${name} ${version} made no submission: ${r.out}`);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'morphux-bin-'));
  try {
    const root = path.join(tmp, 'root');
    for (const [rel, data] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
      await writeFile(path.join(root, rel), data, { mode: rel.includes('/bin/') ? 0o755 : 0o644 });
    }
    const archive = path.join(tmp, 'files.tar.gz');
    await tar.create({ gzip: true, file: archive, cwd: root, portable: true }, ['usr']);
    await updateStatus(s.ctx.store, q.pkgid, {
      message: `test: build ${q.pkgid} good`,
      actor: 'builder',
      change: (st) => {
        st.state = 'good';
        st.reason = null;
        st.build = { arch: 'x86_64', installed_size: 0, compile_seconds: 0, files: Object.keys(files).map((f) => `/${f}`), modified_files: [], binaries: [], resolved_dependencies: [], phases: {} };
      },
      binaries: { arch: 'x86_64', archive, manifest: { files: Object.keys(files).map((f) => `/${f}`) } },
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return q.pkgid;
}
