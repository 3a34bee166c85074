// The package manifest: package.json at the root of a package repo (CONTRACT.md, "package.json").
// parseManifest turns bytes into a checked Manifest or throws `invalid_manifest` saying what is wrong.
import { z } from 'zod';
import { MorphuxError } from './errors.js';
import { checkPackageName, isPackageName } from './names.js';
import { decodeUtf8, hasControlChars, parseUntrustedJson } from './untrusted-text.js';
import { isVersion, parseRange } from './version.js';

const MAX_MANIFEST_BYTES = 256 * 1024;

const command = z.string().min(1).max(4096).refine((s) => !hasControlChars(s), 'holds a control character');
/** free text: no control characters but tab and newline */
const text = (max: number) => z.string().max(max).refine((s) => !hasControlChars(s), 'holds a control character');
const deps = z.record(
  z.string().refine(isPackageName, 'not a package name'),
  z.string().refine((r) => { try { parseRange(r); return true; } catch { return false; } }, 'not a version range'),
);

export const manifestSchema = z.object({
  name: z.string().refine(isPackageName, 'must match [a-z0-9][a-z0-9+._-]*'),
  version: z.string().refine(isVersion, 'must be dot-separated parts such as 1.2.3'),
  description: text(4096).optional(),
  category: z.string().regex(/^[a-z0-9][a-z0-9+._-]*$/).max(64).optional(),
  tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9+._-]*$/).max(64)).max(64).optional(),
  license: text(256).optional(),
  dependencies: deps.optional(),
  build_dependencies: deps.optional(),
  build: z.array(command).max(256).optional(),
  install: z.array(command).max(256).optional(),
  check: z.array(command).max(256).optional(),
}).loose();

export type Manifest = z.infer<typeof manifestSchema>;

export function parseManifest(bytes: Buffer | string | null | undefined): Manifest {
  if (bytes === null || bytes === undefined) throw new MorphuxError('invalid_manifest', 'package.json is missing at the root of the tree');
  if (bytes.length > MAX_MANIFEST_BYTES) throw new MorphuxError('invalid_manifest', `package.json is over ${MAX_MANIFEST_BYTES} bytes`);
  const json = parseUntrustedJson(typeof bytes === 'string' ? bytes : decodeUtf8(bytes, 'invalid_manifest', 'package.json'), 'invalid_manifest', 'package.json');
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new MorphuxError('invalid_manifest', `package.json is invalid: ${where}: ${issue.message}`, { path: issue.path.map(String) });
  }
  checkPackageName(r.data.name);
  return r.data;
}
