// The push-hook protocol, written once: what git hands a package repo's hooks (the `<old> <new>
// <ref>` lines on stdin, the quarantine variables), what the hook client (hooks/run-hook.ts) POSTs
// to the server's /internal/hooks/<hook>, what the server answers, and how a refusal reads in the
// answer's messages (git shows each one as a `remote:` line). Shared by the hook client, the
// server's hook endpoint, the push use cases (service/handle-push.ts), the push policy
// (repos/check-push.ts) and the reads in quarantine (repos/read-at-commit.ts).
//
// The hook client runs in git's process tree once per hook of every push and loads this module:
// it loads zod only when a request is parsed (the server), never at import (the hook would pay
// for it at every start).
import type * as Zod from 'zod';
import { MorphuxError, type ErrorCode } from './errors.js';
import { isPackageName } from './names.js';

/** Where the server answers the hooks: `${HOOK_API_PATH}/<hook>`. */
export const HOOK_API_PATH = '/internal/hooks';

export const HOOK_NAMES = ['pre-receive', 'post-receive'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
export const isHookName = (s: string): s is HookName => (HOOK_NAMES as readonly string[]).includes(s);

/** A git object id: 40 lowercase hex digits (sha1 repos) or 64 (sha256 repos), nothing between. */
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
export const isObjectId = (id: string): boolean => OBJECT_ID.test(id);

/** The id of no object (the old side of a ref being created, the new side of one deleted). */
export const ZERO_ID = '0'.repeat(40);
export const isZeroId = (id: string): boolean => isObjectId(id) && /^0+$/.test(id);

/** `id` when it is an object id; a bad_request otherwise. */
export function checkObjectId(id: string): string {
  if (!isObjectId(id)) throw new MorphuxError('bad_request', `not an object id: ${JSON.stringify(id.slice(0, 80))}`);
  return id;
}

/** One ref a push moves: from `old` to `new` (either may be the zero id). */
export interface RefUpdate {
  old: string;
  new: string;
  ref: string;
}

/** The object-directory variables git gives a pre-receive hook: the pushed objects live there,
 *  in quarantine, until the hook accepts the push. Absolute paths inside the repo. */
export const QUARANTINE_VARS = ['GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_QUARANTINE_PATH'] as const;
export type QuarantineEnv = { [K in (typeof QUARANTINE_VARS)[number]]?: string };

/** What the hook client POSTs to `${HOOK_API_PATH}/<hook>` (Bearer: the server's hook secret). */
export interface HookRequest {
  hook?: HookName;
  /** the package repo (its folder name without .git) */
  repo: string;
  /** the user git-http-backend was run for (REMOTE_USER) */
  pusher: string;
  updates: RefUpdate[];
  /** pre-receive only */
  quarantine?: QuarantineEnv | null;
}

/** The server's answer: each message is printed by the hook (git shows `remote: <message>`);
 *  a pre-receive whose answer is not ok refuses the push. */
export interface HookReply {
  ok: boolean;
  messages: string[];
}

/** git's pre-/post-receive stdin: one `<old> <new> <ref>` line per ref update. */
export function parseReceiveInput(text: string): RefUpdate[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const [old, next, ref, ...rest] = line.trim().split(' ');
    if (rest.length || !ref || !isObjectId(old) || !isObjectId(next) || /\s/.test(ref)) {
      throw new MorphuxError('bad_request', `unexpected hook input line ${JSON.stringify(line.slice(0, 200))}`);
    }
    return { old, new: next, ref };
  });
}

function requestSchema(z: typeof Zod): Zod.ZodType<HookRequest> {
  const oid = z.string().regex(OBJECT_ID, 'not an object id (40 or 64 lowercase hex digits)');
  return z.object({
    hook: z.enum(HOOK_NAMES).optional(),
    repo: z.string().refine(isPackageName, 'not a package name'),
    pusher: z.string().max(64).default(''),
    updates: z.array(z.object({ old: oid, new: oid, ref: z.string().min(1).max(1024) })).max(10_000),
    quarantine: z.partialRecord(z.enum(QUARANTINE_VARS), z.string()).nullable().optional(),
  });
}
let schema: Zod.ZodType<HookRequest> | undefined;

/** The one reader of a hook request (the server's hook endpoint): a bad_request when `body` is not one. */
export async function parseHookRequest(body: unknown): Promise<HookRequest> {
  schema ??= requestSchema(await import('zod'));
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MorphuxError('bad_request', `bad hook request: ${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}`);
  }
  return r.data;
}

/** How a refused ref update reads in the pre-receive answer (and so in git's `remote:` line):
 *  `refused (<code>): <message>`, the code first, for people and programs alike. */
export function refusalLine(r: { code: ErrorCode; message: string }): string {
  return `refused (${r.code}): ${r.message}`;
}

/** The code and message of a refusal line (a `remote: ` prefix and trailing blanks allowed); null for any other line. */
export function parseRefusalLine(line: string): { code: string; message: string } | null {
  const m = /^(?:remote: )?refused \(([a-z_]+)\): (.*?)\s*$/.exec(line);
  return m ? { code: m[1], message: m[2] } : null;
}
