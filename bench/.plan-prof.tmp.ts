// temporary profile (removed after): in-process install plans over the generated store
import path from 'node:path';
import { CommittedTree } from '../src/store/tree/committed-tree.js';
import { PortCatalog } from '../src/store/catalog/port-catalog.js';
import { installPlan, planSource } from '../src/service/install-plan.js';
import { pkgName } from './support/generated-store.js';

const data = process.argv[2]!;
const root = path.join(data, 'store');
const committed = new CommittedTree(path.join(root, '.git'));
const fakeStore = { root, onCommit() {} } as any;
const catalog = new PortCatalog(fakeStore, committed);
let reads = 0;
const orig = committed.objects.read.bind(committed.objects);
committed.objects.read = (s: string) => { reads++; return orig(s); };
await catalog.get('apkg000026');
if (process.argv.includes('--oid')) {
  const oids = new Map<string, string>();
  for (const l of 'abcdefghijklmnopqrstuvwxyz') for (const e of await committed.entries(`index/ports/${l}`)) oids.set(e.name.slice(0, -5), e.oid);
  (catalog as any).read = async (name: string) => { const o = await committed.objects.read(oids.get(name)!); return o?.type === 'blob' ? JSON.parse(o.data.toString('utf8')) : null; };
  console.log('reading by oid');
}
const src = planSource({ catalog, committed });
const o = { publicUrl: 'http://x', arches: ['x86_64'] };
const N = 1000;
for (const mode of ['spread', 'hot']) {
  const ms: number[] = [];
  reads = 0;
  for (let n = 0; n < N; n++) {
    const i = mode === 'hot' ? 1 + (n % 20) * 10 : 1 + ((n * 7919 + 12345) % 100000);
    const root = i - ((i - 1) % 10);
    if (root % 10 === 0) continue;
    const t = performance.now();
    try { await installPlan(src, { pkg: [pkgName(root)] }, o); } catch (e) { continue; }
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(mode, 'plans', ms.length, 'reads/plan', (reads / ms.length).toFixed(1), 'p50', ms[ms.length >> 1]!.toFixed(2), 'p99', ms[Math.floor(ms.length * 0.99)]!.toFixed(2));
}
// raw: read by path vs by oid
const names = Array.from({ length: 500 }, (_, k) => pkgName(1 + ((k * 104729 + 7) % 100000)));
const letter = (n: string) => n[0];
let t = performance.now();
const oids: string[] = [];
for (const n of names) oids.push((await committed.objects.read(`HEAD:index/ports/${letter(n)}/${n}.json`))!.oid);
console.log('by path, sequential: ms/read', ((performance.now() - t) / names.length).toFixed(3));
t = performance.now();
await Promise.all(names.map((n) => committed.objects.read(`HEAD:index/ports/${letter(n)}/${n}.json`)));
console.log('by path, all in flight: ms/read', ((performance.now() - t) / names.length).toFixed(3));
t = performance.now();
for (const o of oids) await committed.objects.read(o);
console.log('by oid, sequential: ms/read', ((performance.now() - t) / names.length).toFixed(3));
await committed.close();
process.exit(0);
