// Read-path bench (issue 8, item 4): requests per second and p99 of GET /pkg/<pkgid> (the
// portpkg.tgz bytes) and GET /port/<name> (a 301 to /pkg/<pkgid>) on the built server, running
// in a process of its own, against nginx on loopback in the same run serving the same file
// (copied to its root, same headers) and answering `return 301`. Load from autocannon in this
// process: C connections, keep-alive, a warm-up then D seconds per target, servers alternated.
// Target: ratio (morphux / nginx req/s) ≥ 0.7.
// Run: npm run build && npx tsx bench/read-path.ts [--connections 50] [--duration 10] [--rounds 2]
//      [--workers 1]   (nginx worker processes; needs Debian's nginx, scripts/setup.sh installs it)
import autocannon from 'autocannon';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { storePaths } from '../src/store/layout/store-paths.js';
import { startNginx } from '../test/support/nginx.js';
import { goodSubmission } from '../test/support/portpkgs.js';
import { benchServer } from './support/bench-server.js';
import { argNumber, median } from './support/stats.js';

const CONNECTIONS = argNumber('connections', 50);
const DURATION = argNumber('duration', 10);
const ROUNDS = argNumber('rounds', 2);
const WORKERS = argNumber('workers', 1);
const NAME = 'hello';

interface Load { rps: number; p50: number; p99: number; bad: number }

async function load(url: string, seconds: number, status: number): Promise<Load> {
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, pipelining: 1 });
  const counts = r as unknown as Record<string, number>; // '1xx' … '5xx'
  const good = counts[`${String(status)[0]}xx`] ?? 0;
  return { rps: good / r.duration, p50: r.latency.p50, p99: r.latency.p99, bad: r.errors + r.timeouts + (r.requests.total - good) };
}

/** One response's status, Location and length: both servers must answer alike. */
async function check(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  const body = Buffer.from(await res.arrayBuffer());
  return `${res.status} ${res.headers.get('location')?.replace(/^https?:\/\/[^/]+/, '') ?? ''} ${body.length} B`;
}

const server = await benchServer(async (s) => {
  const pkgid = await goodSubmission(s, s.adminToken, NAME, '1.0');
  return { pkgid, file: s.ctx.store.abs(storePaths.portpkgTgz(pkgid)) };
});
const { pkgid, file } = server.made;
const nginx = await startNginx({
  workers: WORKERS,
  // nginx as tuned for static files: descriptors and sizes cached, checked once a second (as
  // PkgFileCache does), the body sent with sendfile
  locations: (root) => `
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 1s;
    location = /pkg/${pkgid} {
      alias ${path.join(root, 'portpkg.tgz')};
      default_type application/gzip;
      add_header Cache-Control "public, max-age=31536000, immutable";
      add_header Content-Disposition 'attachment; filename="${NAME}-1.0-${pkgid}.tgz"';
    }
    location = /port/${NAME} {
      add_header Cache-Control no-cache;
      return 301 /pkg/${pkgid};
    }`,
});
try {
  await copyFile(file, path.join(nginx.root, 'portpkg.tgz'));
  const targets = [
    { path: `/pkg/${pkgid}`, status: 200 },
    { path: `/port/${NAME}`, status: 301 },
  ];
  for (const t of targets) {
    const [a, b] = [await check(server.url + t.path), await check(nginx.url + t.path)];
    console.log(`GET ${t.path}: morphux ${a}, nginx ${b}`);
    if (Number(a.slice(0, 3)) !== t.status || Number(b.slice(0, 3)) !== t.status) throw new Error(`bench: GET ${t.path} did not answer ${t.status}`);
  }
  console.log(`${CONNECTIONS} connections, ${DURATION} s per run, ${ROUNDS} round(s), nginx worker_processes ${WORKERS}`);
  const rows = ['| url | round | morphux req/s | p50 ms | p99 ms | nginx req/s | p50 ms | p99 ms | ratio req/s |', '|---|---|---:|---:|---:|---:|---:|---:|---:|'];
  const ratios = new Map<string, number[]>();
  for (const t of targets) {
    await load(server.url + t.path, 2, t.status); // warm-up: JIT, caches, sockets
    await load(nginx.url + t.path, 2, t.status);
    for (let round = 1; round <= ROUNDS; round++) {
      const m = await load(server.url + t.path, DURATION, t.status);
      const n = await load(nginx.url + t.path, DURATION, t.status);
      const ratio = m.rps / n.rps;
      ratios.set(t.path, [...(ratios.get(t.path) ?? []), ratio]);
      const bad = m.bad || n.bad ? ` (unexpected answers or errors: morphux ${m.bad}, nginx ${n.bad})` : '';
      rows.push(`| \`${t.path}\` | ${round} | ${Math.round(m.rps)} | ${m.p50} | ${m.p99} | ${Math.round(n.rps)} | ${n.p50} | ${n.p99} | ${ratio.toFixed(2)}×${bad} |`);
      console.error(rows[rows.length - 1]);
    }
  }
  console.log(rows.join('\n'));
  for (const [p, rs] of ratios) console.log(`GET ${p}: median ratio ${median(rs).toFixed(2)}× nginx (target ≥ 0.7×)`);
} finally {
  await nginx.stop();
  await server.close();
}
