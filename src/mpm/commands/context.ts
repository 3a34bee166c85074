// What the installer commands get from the command line: the server's client, ROOT, how to
// print (text or --json), --yes, whether to draw progress bars.
import type { MpmClient } from '../client.js';

export interface CommandContext {
  client: () => MpmClient;
  root: string;
  json: boolean;
  yes: boolean;
  progress: boolean;
  /** stdout: the value as JSON with --json, else the text */
  print: (value: unknown, text: () => string) => void;
  /** a pause between a transaction's moves (MPM_DEBUG_STEP_DELAY_MS; crash tests) */
  stepDelayMs?: number;
}

/** The arch of this machine as the server names it. */
export const hostArch = () => (process.arch === 'arm64' ? 'aarch64' : 'x86_64');
