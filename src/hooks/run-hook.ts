// The thin hook client git runs in a package repo (`node run-hook.js pre-receive|post-receive`):
// it forwards the pushed refs and the quarantine to the Morphux server, prints the server's
// messages (git shows them as `remote: …`) and exits 1 when a pre-receive is refused.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isHookName, parseReceiveInput, type HookReply, type HookRequest, type QuarantineEnv } from '../domain/hook-protocol.js';

const TIMEOUT_MS = 10 * 60 * 1000;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Absolute paths for the quarantine variables (git gives absolute ones; be sure anyway). */
function quarantine(env: NodeJS.ProcessEnv, cwd: string): QuarantineEnv | null {
  const abs = (p: string) => path.resolve(cwd, p);
  if (!env.GIT_OBJECT_DIRECTORY && !env.GIT_QUARANTINE_PATH) return null;
  const q: QuarantineEnv = {};
  if (env.GIT_OBJECT_DIRECTORY) q.GIT_OBJECT_DIRECTORY = abs(env.GIT_OBJECT_DIRECTORY);
  if (env.GIT_QUARANTINE_PATH) q.GIT_QUARANTINE_PATH = abs(env.GIT_QUARANTINE_PATH);
  if (env.GIT_ALTERNATE_OBJECT_DIRECTORIES) q.GIT_ALTERNATE_OBJECT_DIRECTORIES = env.GIT_ALTERNATE_OBJECT_DIRECTORIES.split(':').filter(Boolean).map(abs).join(':');
  return q;
}

export async function runHook(hook: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Promise<number> {
  const refuseCode = hook === 'pre-receive' ? 1 : 0;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  if (!isHookName(hook)) {
    say(`Morphux: unknown hook ${JSON.stringify(hook)}`);
    return 1;
  }
  if (!env.MORPHUX_HOOK_URL || !env.MORPHUX_HOOK_TOKEN) {
    say('Morphux: pushes are accepted only through the Morphux server');
    return 1;
  }
  const updates = parseReceiveInput(await readStdin());
  const body: HookRequest = {
    hook,
    repo: path.basename(cwd).replace(/\.git$/, ''),
    pusher: env.REMOTE_USER ?? '',
    updates,
    quarantine: hook === 'pre-receive' ? quarantine(env, cwd) : null,
  };
  let reply: { [K in keyof HookReply]?: unknown }; // a HookReply, not taken on trust
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
