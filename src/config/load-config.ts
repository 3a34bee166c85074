// Reads the configuration once: the YAML file (--config, MORPHUX_CONFIG, or DATA/morphux.yaml
// when present), then the environment (MORPHUX_*), then command-line overrides; validates it
// and returns a frozen Config. The only module that reads process.env.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { MorphuxError } from '../domain/errors.js';
import { configSchema, type Config } from './config-schema.js';

export interface Overrides {
  config?: string;
  data?: string;
  host?: string;
  port?: number;
}

export interface LoadedConfig extends Config {
  /** absolute data dir */
  data: string;
  /** absolute image cache dir */
  imageDir: string;
  publicUrl: string;
}

export function loadConfig(overrides: Overrides = {}, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const data = overrides.data ?? env.MORPHUX_DATA;
  const file = overrides.config ?? env.MORPHUX_CONFIG ?? (data ? path.join(data, 'morphux.yaml') : undefined) ?? './var/morphux.yaml';
  let raw: Record<string, any> = {};
  if (overrides.config || env.MORPHUX_CONFIG || existsSync(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new MorphuxError('config_invalid', `cannot read config file ${file}: ${(e as Error).message}`);
    }
    try {
      raw = (YAML.parse(text) as Record<string, any>) ?? {};
    } catch (e) {
      throw new MorphuxError('config_invalid', `config file ${file} is not valid YAML: ${(e as Error).message}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new MorphuxError('config_invalid', `config file ${file} must be a mapping`);
  }
  raw = { ...raw, server: { ...(raw.server ?? {}) }, builder: { ...(raw.builder ?? {}) }, log: { ...(raw.log ?? {}) } };
  if (data) raw.data = data;
  const host = overrides.host ?? env.MORPHUX_HOST;
  if (host) raw.server.host = host;
  const port = overrides.port ?? (env.MORPHUX_PORT !== undefined ? Number(env.MORPHUX_PORT) : undefined);
  if (port !== undefined) raw.server.port = port;
  if (env.MORPHUX_IMAGE_DIR) raw.builder.image_dir = env.MORPHUX_IMAGE_DIR;
  if (env.MORPHUX_ACCEL) raw.builder.accel = env.MORPHUX_ACCEL;
  if (env.MORPHUX_LOG_LEVEL) raw.log.level = env.MORPHUX_LOG_LEVEL;
  // builder.rebuild.when (every | sample | none): tests start servers with none unless a test is about it
  if (env.MORPHUX_REBUILD) raw.builder.rebuild = { ...(raw.builder.rebuild ?? {}), when: env.MORPHUX_REBUILD };

  const r = configSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MorphuxError('config_invalid', `invalid configuration${existsSync(file) ? ` (${file})` : ''}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const c = r.data;
  const cacheHome = env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  const loaded: LoadedConfig = {
    ...c,
    data: path.resolve(c.data),
    imageDir: path.resolve(c.builder.image_dir ?? path.join(cacheHome, 'morphux', 'images')),
    publicUrl: (c.server.public_url ?? `http://${c.server.host.includes(':') ? `[${c.server.host}]` : c.server.host}:${c.server.port}`).replace(/\/+$/, ''),
  };
  return Object.freeze(loaded);
}
