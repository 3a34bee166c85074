// A user's build report on a submission (mpwa's submitreport): status ok or failed, the arch, an
// optional one-line message and an optional log of at most builder.log_max_bytes. Any signed-in user.
import { z } from 'zod';
import { ARCHES } from '../../domain/arch.js';
import { MorphuxError } from '../../domain/errors.js';
import { addUserReport } from '../../store/changes/add-user-report.js';
import { actorName } from '../actor.js';
import { pkgidField, textField } from '../input-fields.js';
import { defineAction } from '../perform.js';
import { submissionFacts } from '../package-facts.js';
import type { MetaContext } from './meta-context.js';

export const addReport = defineAction({
  name: 'report.add',
  input: z.object({
    pkgid: pkgidField,
    status: z.enum(['ok', 'failed']),
    arch: z.enum(ARCHES),
    message: textField(4096).nullable().optional(),
    log: z.string().nullable().optional(),
  }).strict(),
  // the log (twice its limit leaves room for JSON escapes or form encoding), plus the rest
  bodyLimit: (config) => Math.min(config.server.body_limit_bytes, config.builder.log_max_bytes * 2 + 64 * 1024),
  throttle: 'upload',
  facts: async (ctx: MetaContext, i) => ({ package: (await submissionFacts(ctx, i.pkgid)).package }),
  run: async (ctx: MetaContext, actor, i) => {
    if (i.log && Buffer.byteLength(i.log) > ctx.config.builder.log_max_bytes) {
      throw new MorphuxError('too_large', `the log is over ${ctx.config.builder.log_max_bytes} bytes`);
    }
    return addUserReport(ctx.store, i.pkgid, actorName(actor), { status: i.status, arch: i.arch, message: i.message || null, log: i.log || null });
  },
});
