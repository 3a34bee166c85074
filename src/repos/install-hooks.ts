// The hooks of a package repo: tiny /bin/sh wrappers that hand the push to the Morphux server
// through its hook client (src/hooks/hook-client.sh, which the server names in MORPHUX_HOOK_SCRIPT,
// so a new client needs no repo rewritten), and refuse it when git was not started by the server.
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HOOK_NAMES, type HookName } from '../domain/hook-protocol.js';

export function hookScript(hook: HookName): string {
  return `#!/bin/sh
# Morphux ${hook}: all push policy lives in the Morphux server; this only forwards to it.
if [ -z "$MORPHUX_HOOK_SCRIPT" ]; then
  echo "Morphux: pushes are accepted only through the Morphux server" >&2
  exit 1
fi
exec /bin/sh "$MORPHUX_HOOK_SCRIPT" ${hook}
`;
}

export async function installHooks(gitdir: string): Promise<void> {
  const dir = path.join(gitdir, 'hooks');
  await mkdir(dir, { recursive: true });
  for (const hook of HOOK_NAMES) {
    const file = path.join(dir, hook);
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, hookScript(hook), { mode: 0o755 });
    await chmod(tmp, 0o755); // the umask may have narrowed it
    await rename(tmp, file);
  }
}
