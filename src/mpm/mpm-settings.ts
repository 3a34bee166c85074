// mpm's trust settings, read in one place for every command: flags first, then the environment,
// then the mpm config file (MPM_CONFIG, else $XDG_CONFIG_HOME/mpm/config.json): the mirror, the
// trusted signing keys (the publishing keys of `morphux keys show-public`, for a mirror's index and
// for build provenance alike), the content keys file, a CA file, whether installs require
// provenance, and where the mirrors' replay state is kept.
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { parsePublicKey, signingKeyId } from '../domain/signed-index.js';

export interface TrustFlags {
  /** --mirror [URL]: true without a URL */
  mirror?: string | boolean;
  /** --public-key, repeatable */
  publicKey?: string[];
  /** --content-keys FILE */
  contentKeys?: string;
  /** --ca-file FILE */
  caFile?: string;
  /** --require-provenance */
  requireProvenance?: boolean;
}

export interface MpmSettings {
  /** --mirror URL, MPM_MIRROR, "mirror"; null when none is named */
  mirror: string | null;
  /** --public-key…, else MPM_PUBLIC_KEYS (space or comma separated), else "public_keys" */
  publicKeys: string[];
  /** --content-keys, MPM_CONTENT_KEYS, "content_keys_file" */
  contentKeysFile: string | null;
  /** --ca-file, MPM_CA_FILE, "ca_file" */
  caFile: string | null;
  /** --require-provenance, else MPM_REQUIRE_PROVENANCE (not 0, false or no), else "require_provenance": true */
  requireProvenance: boolean;
  /** where the highest index sequence seen per mirror is kept ($XDG_DATA_HOME/mpm/mirrors.json) */
  stateFile: string;
}

interface MpmConfig {
  mirror?: string;
  public_keys?: string[];
  content_keys_file?: string;
  ca_file?: string;
  require_provenance?: boolean;
}

/** The settings as the flags, the environment and the config file give them (the file read only when present). */
export async function mpmSettings(flags: TrustFlags, env: NodeJS.ProcessEnv = process.env): Promise<MpmSettings> {
  const file = env.MPM_CONFIG ?? path.join(env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'mpm', 'config.json');
  let cfg: MpmConfig = {};
  if (existsSync(file)) {
    try {
      cfg = JSON.parse(await readFile(file, 'utf8')) as MpmConfig;
    } catch {
      throw new MorphuxError('bad_request', `${file} is not valid JSON`);
    }
  }
  const required = env.MPM_REQUIRE_PROVENANCE;
  return {
    mirror: (typeof flags.mirror === 'string' ? flags.mirror : undefined) ?? env.MPM_MIRROR ?? cfg.mirror ?? null,
    publicKeys: flags.publicKey?.length ? flags.publicKey : env.MPM_PUBLIC_KEYS ? env.MPM_PUBLIC_KEYS.split(/[\s,]+/).filter(Boolean) : (cfg.public_keys ?? []),
    contentKeysFile: flags.contentKeys ?? env.MPM_CONTENT_KEYS ?? cfg.content_keys_file ?? null,
    caFile: flags.caFile ?? env.MPM_CA_FILE ?? cfg.ca_file ?? null,
    requireProvenance: flags.requireProvenance === true
      || (required !== undefined && required !== '' ? !['0', 'false', 'no'].includes(required.toLowerCase()) : cfg.require_provenance === true),
    stateFile: path.join(env.XDG_DATA_HOME || path.join(homedir(), '.local', 'share'), 'mpm', 'mirrors.json'),
  };
}

/** The pinned keys by key id; bad_request when there is none (a check with no key to trust could not pass). */
export function trustedKeyMap(publicKeys: readonly string[]): Map<string, KeyObject> {
  if (publicKeys.length === 0) throw new MorphuxError('bad_request', 'no trusted public key: pass --public-key ed25519:… (from `morphux keys show-public`), set MPM_PUBLIC_KEYS or "public_keys" in the mpm config');
  const trusted = new Map<string, KeyObject>();
  for (const t of publicKeys) {
    const key = parsePublicKey(t);
    trusted.set(signingKeyId(key), key);
  }
  return trusted;
}
