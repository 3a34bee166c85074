// `morphux keys init | rotate | show-public | export-content-keys`: the repository's publishing
// keys (src/publish/publish-keys.ts). Private keys are never printed; show-public prints what
// users pin (mpm --public-key), export-content-keys writes the file subscribers decrypt with.
import { writeFile } from 'node:fs/promises';
import { PublishKeys } from '../publish/publish-keys.js';
import { publishPaths } from '../publish/publish-paths.js';
import { dataLayout } from '../config/data-layout.js';
import { configFrom } from './cli-support.js';

interface DataOpts {
  data?: string;
  config?: string;
  json?: boolean;
}

function keysOf(opts: DataOpts): PublishKeys {
  return new PublishKeys(publishPaths(dataLayout(configFrom(opts).data).publish));
}

export async function keysInit(opts: DataOpts): Promise<void> {
  const r = await keysOf(opts).init();
  process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : `signing key ${r.signing}, content key ${r.content}\n`);
}

export async function keysRotate(opts: DataOpts): Promise<void> {
  const r = await keysOf(opts).rotate();
  process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : `now signing with ${r.signing}, encrypting with ${r.content}; old keys kept; rotation statement ${r.rotation} signed by the old key (goes to the mirrors before the next index)\n`);
}

export async function keysShowPublic(opts: DataOpts): Promise<void> {
  const keys = await keysOf(opts).publicKeys();
  if (opts.json) process.stdout.write(JSON.stringify(keys, null, 2) + '\n');
  else process.stdout.write(keys.map((k) => `${k.public_key} ${k.key_id}${k.active ? ' active' : ''}`).join('\n') + '\n');
}

export async function keysExportContent(opts: DataOpts & { output: string }): Promise<void> {
  const file = await keysOf(opts).contentKeysFile();
  await writeFile(opts.output, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  process.stdout.write(`${file.keys.length} content keys written to ${opts.output} (mode 0600): give it only to those who may decrypt\n`);
}
