// mpm and morphux as users run them, bundled once per test process with esbuild (tsx's own
// compiler) so that a command starts in a blink; run() gives its exit code and output.
import { expect } from 'chai';
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_BIN = path.join(ROOT, 'node_modules', '.cache', 'morphux-test-bin');

let bundled: Promise<void> | null = null;

/** Bundles src/cli/mpm.ts and src/cli/morphux.ts into CLI_BIN (once per process), with the port
 *  catalog's load worker beside them, where the bundled catalog looks for it (port-catalog.ts). */
export function bundleClis(): Promise<void> {
  bundled ??= (async () => {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: {
        mpm: path.join(ROOT, 'src', 'cli', 'mpm.ts'),
        morphux: path.join(ROOT, 'src', 'cli', 'morphux.ts'),
        'port-load-worker': path.join(ROOT, 'src', 'store', 'catalog', 'port-load-worker.ts'),
      },
      outdir: CLI_BIN,
      bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error',
    });
  })();
  return bundled;
}

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** The bundled script of a CLI, for a test that starts it itself (to kill it, say). */
export const cliScript = (cli: 'mpm' | 'morphux'): string => path.join(CLI_BIN, `${cli}.js`);

/** Runs a bundled CLI; env is added to a minimal environment (no inherited MPM_* or MORPHUX_*). */
export async function runCli(cli: 'mpm' | 'morphux', args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  await bundleClis();
  const r = await execa(process.execPath, [cliScript(cli), ...args], {
    reject: false, cwd: opts.cwd, extendEnv: false,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', MORPHUX_LOG_LEVEL: 'silent', ...opts.env },
  });
  return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
}

/** The error code a CLI printed on its one error line (`error: … (code)`), or null. */
export const cliErrorCode = (r: CliRun): string | null => /\(([a-z_]+)\)\s*$/.exec(r.err.trim())?.[1] ?? null;

/** A CLI's error is one line. */
export const expectOneLine = (err: string): void => void expect(err.trim().split('\n'), err).to.have.length(1);
