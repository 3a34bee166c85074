// `morphux mirror status | push`: what each configured FTP mirror holds, what is pending and what
// failed (with its back-off); and one publishing round run now, back-off ignored.
import { createLogger } from '../lib/logger.js';
import { openContext } from './open-instance.js';
import { configFrom } from './cli-support.js';

interface DataOpts {
  data?: string;
  config?: string;
  json?: boolean;
}

export async function mirrorStatus(opts: DataOpts): Promise<void> {
  const ctx = await openContext(configFrom(opts), createLogger('warn'));
  const st = await ctx.publisher.status();
  if (opts.json) {
    process.stdout.write(JSON.stringify({ mirrors: st }, null, 2) + '\n');
    return;
  }
  if (st.length === 0) process.stdout.write('no mirrors configured (publish.mirrors)\n');
  for (const m of st) {
    const ix = m.index ? `index #${m.index.sequence} (${m.index.artifacts} artifacts, valid until ${m.index.valid_until})` : 'no index yet';
    process.stdout.write(`${m.mirror} ${m.url}: ${m.confirmed} on mirror, ${m.pending.length + m.unbuilt} pending${m.unbuilt ? ` (${m.unbuilt} not built yet)` : ''}, ${m.failed.length} failed; ${ix}\n`);
    for (const p of m.pending) process.stdout.write(`  pending ${p}\n`);
    for (const f of m.failed) process.stdout.write(`  failed  ${f.path}: ${f.count}x${f.code ? ` (${f.code})` : ''}, last ${f.last_at}: ${f.last_error}; next try after ${f.next_at}\n`);
  }
}

export async function mirrorPush(opts: DataOpts): Promise<void> {
  const config = configFrom(opts);
  const log = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const ctx = await openContext(config, log);
  const r = (await ctx.publisher.runOnce({ force: true, wait: true }))!;
  if (opts.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    process.stdout.write(`built ${r.built} artifacts\n`);
    for (const m of r.mirrors) {
      process.stdout.write(`${m.mirror}: uploaded ${m.uploaded.length}${m.manifests.length ? ` (and ${m.manifests.length} manifests)` : ''}${m.provenances.length ? ` (and ${m.provenances.length} provenance files)` : ''}${m.removed.length ? `, removed ${m.removed.length} plain manifests` : ''}, failed ${m.failed.length}, pending ${m.pending}${m.index ? `, index #${m.index}` : ''}\n`);
    }
  }
  if (r.mirrors.some((m) => m.failed.length > 0 || m.pending > 0)) process.exit(1);
}
