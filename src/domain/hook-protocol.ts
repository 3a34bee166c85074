// The push-hook protocol, written once: what git hands a package repo's hooks (the `<old> <new>
// <ref>` lines on stdin, the quarantine variables), what the hook client (hooks/hook-client.sh)
// POSTs to the server's /internal/hooks/<hook>, what the server answers, and how a refusal reads in
// the answer's messages (git shows each one as a `remote:` line). Shared by the server's hook
// endpoint, the push use cases (service/handle-push.ts), the push policy (repos/check-push.ts) and
// the reads in quarantine (repos/read-at-commit.ts).
//
// On the wire, so that the client is a few lines of sh and one curl (a Node process costs
// 0.13-0.2 s to start here, twice a push): the body is git's stdin as it came (text/plain), the
// rest are headers (HOOK_HEADERS); the answer is the messages, one a line (text/plain), with 200
// when the hook says yes and 409 when a pre-receive refuses. Any other status is the server's
// own trouble (the secret, a limit) and the client says the push could not be checked.
import { z } from 'zod';
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

/** What a hook asks, once read from the wire (hookRequestFromWire) and checked (parseHookRequest). */
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

/** The server's answer (hookReplyToWire): each message is printed by the hook (git shows `remote:
 *  <message>`); a pre-receive whose answer is not ok refuses the push. */
export interface HookReply {
  ok: boolean;
  messages: string[];
}

/** The request's headers besides the Bearer secret: the repo (its folder name without .git), the
 *  pusher (REMOTE_USER), and each quarantine variable git gave a pre-receive (absolute paths: the
 *  client makes a relative one absolute from the repo folder it runs in). */
export const HOOK_HEADERS = {
  repo: 'x-morphux-repo',
  pusher: 'x-morphux-pusher',
  GIT_OBJECT_DIRECTORY: 'x-morphux-git-object-directory',
  GIT_ALTERNATE_OBJECT_DIRECTORIES: 'x-morphux-git-alternate-object-directories',
  GIT_QUARANTINE_PATH: 'x-morphux-git-quarantine-path',
} as const;

/** The answer's status: 200 yes, 409 a pre-receive's refusal. */
export const HOOK_OK = 200;
export const HOOK_REFUSED = 409;

/** The request as the hook client sent it (its headers, read by name; its body, git's stdin), checked
 *  by parseHookRequest. A bad_request when the stdin lines are not git's or the request is not one. */
export function hookRequestFromWire(hook: HookName, header: (name: string) => string | undefined, body: string): HookRequest {
  const quarantine: QuarantineEnv = {};
  for (const v of QUARANTINE_VARS) {
    const given = header(HOOK_HEADERS[v]);
    if (given) quarantine[v] = given;
  }
  return parseHookRequest({
    hook,
    repo: header(HOOK_HEADERS.repo) ?? '',
    pusher: header(HOOK_HEADERS.pusher) ?? '',
    updates: parseReceiveInput(body),
    quarantine: hook === 'pre-receive' && Object.keys(quarantine).length ? quarantine : null,
  });
}

/** The answer on the wire: its status, and its messages one a line (a message's own line breaks and
 *  other control characters become blanks: one message is one `remote:` line). */
export function hookReplyToWire(hook: HookName, reply: HookReply): { status: typeof HOOK_OK | typeof HOOK_REFUSED; text: string } {
  const lines = reply.messages.map((m) => m.replace(/[\u0000-\u001f\u007f]/g, ' '));
  return { status: reply.ok || hook !== 'pre-receive' ? HOOK_OK : HOOK_REFUSED, text: lines.map((l) => `${l}\n`).join('') };
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

const oid = z.string().regex(OBJECT_ID, 'not an object id (40 or 64 lowercase hex digits)');
const requestSchema: z.ZodType<HookRequest> = z.object({
  hook: z.enum(HOOK_NAMES).optional(),
  repo: z.string().refine(isPackageName, 'not a package name'),
  pusher: z.string().max(64).default(''),
  updates: z.array(z.object({ old: oid, new: oid, ref: z.string().min(1).max(1024) })).max(10_000),
  quarantine: z.partialRecord(z.enum(QUARANTINE_VARS), z.string()).nullable().optional(),
});

/** The one check of a hook request (hookRequestFromWire reads it): a bad_request when `body` is not one. */
export function parseHookRequest(body: unknown): HookRequest {
  const r = requestSchema.safeParse(body);
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
