// The thin hook client git runs in a package repo (`node run-hook.js pre-receive|post-receive`):
// it forwards the pushed refs and the quarantine to the Morphux server, prints the server's
// messages (git shows them as `remote: …`) and exits 1 when a pre-receive is refused.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MorphuxError } from '../domain/errors.js';

const HOOKS = ['pre-receive', 'post-receive'] as const;
type Hook = (typeof HOOKS)[number];
const TIMEOUT_MS = 10 * 60 * 1000;

export interface HookUpdate {
  old: string;
  new: string;
  ref: string;
}

export function parseHookInput(text: string): HookUpdate[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const m = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) (\S+)$/.exec(line.trim());
    if (!m) throw new MorphuxError('bad_request', `unexpected hook input line ${JSON.stringify(line.slice(0, 200))}`);
    return { old: m[1], new: m[2], ref: m[3] };
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Absolute paths for the quarantine variables (git gives absolute ones; be sure anyway). */
function quarantine(env: NodeJS.ProcessEnv, cwd: string): Record<string, string> | null {
  const abs = (p: string) => path.resolve(cwd, p);
  if (!env.GIT_OBJECT_DIRECTORY && !env.GIT_QUARANTINE_PATH) return null;
  const q: Record<string, string> = {};
  if (env.GIT_OBJECT_DIRECTORY) q.GIT_OBJECT_DIRECTORY = abs(env.GIT_OBJECT_DIRECTORY);
  if (env.GIT_QUARANTINE_PATH) q.GIT_QUARANTINE_PATH = abs(env.GIT_QUARANTINE_PATH);
  if (env.GIT_ALTERNATE_OBJECT_DIRECTORIES) q.GIT_ALTERNATE_OBJECT_DIRECTORIES = env.GIT_ALTERNATE_OBJECT_DIRECTORIES.split(':').filter(Boolean).map(abs).join(':');
  return q;
}

export async function runHook(hook: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Promise<number> {
  const refuseCode = hook === 'pre-receive' ? 1 : 0;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  if (!(HOOKS as readonly string[]).includes(hook)) {
    say(`Morphux: unknown hook ${JSON.stringify(hook)}`);
    return 1;
  }
  if (!env.MORPHUX_HOOK_URL || !env.MORPHUX_HOOK_TOKEN) {
    say('Morphux: pushes are accepted only through the Morphux server');
    return 1;
  }
  const updates = parseHookInput(await readStdin());
  const body = {
    hook: hook as Hook,
    repo: path.basename(cwd).replace(/\.git$/, ''),
    pusher: env.REMOTE_USER ?? '',
    updates,
    quarantine: hook === 'pre-receive' ? quarantine(env, cwd) : null,
  };
  let reply: { ok?: unknown; messages?: unknown };
  try {
    const res = await fetch(`${env.MORPHUX_HOOK_URL.replace(/\/+$/, '')}/${hook}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.MORPHUX_HOOK_TOKEN}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    reply = (await res.json()) as typeof reply;
    if (!res.ok && !Array.isArray(reply?.messages)) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    const why = ((e as { cause?: { code?: string } }).cause?.code) ?? (e as Error).message;
    say(`Morphux: the push could not be checked (the Morphux server did not answer: ${why}); try again later`);
    return refuseCode;
  }
  if (Array.isArray(reply.messages)) for (const m of reply.messages) say(String(m));
  return reply.ok === true ? 0 : refuseCode;
}

const stem = (p: string) => p.replace(/\.[cm]?[jt]s$/, '');
const isMain = process.argv[1] !== undefined && stem(path.resolve(process.argv[1])) === stem(fileURLToPath(import.meta.url));
if (isMain) {
  runHook(process.argv[2] ?? '').then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`Morphux: hook failed: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
