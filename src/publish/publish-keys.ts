// The repository's keys, managed by `morphux keys init | rotate | show-public`: an Ed25519
// signing key and an AES-256 content key, each with an id. Kept under DATA/publish/keys (folder
// 0700, files 0600), never in the store and never logged. Rotation makes new keys active and
// keeps the old ones: artifacts already published stay verifiable and decryptable; the old
// signing key signs a statement naming the new one (rotations(), for the mirrors and mpm).
import { createHash, generateKeyPairSync, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MorphuxError } from '../domain/errors.js';
import { signRotation } from '../domain/key-rotation.js';
import { contentKeyId, type ContentKey } from '../domain/sealed-artifact.js';
import { formatPublicKey, privateKeyFromPem, signingKeyId } from '../domain/signed-index.js';
import { atomicWrite, atomicWriteJson, readJsonFile } from '../lib/atomic-write.js';
import { remoteRotationPath, type PublishedFile, type PublishPaths } from './publish-paths.js';

export interface SigningKey {
  id: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

interface ActiveDoc {
  signing: string;
  content: string;
  history: Array<{ signing: string; content: string; at: string }>;
}

export interface PublicKeyInfo {
  key_id: string;
  public_key: string;
  active: boolean;
}

/** The text content-key file subscribers are given (mpm --content-keys FILE). */
export interface ContentKeysFile {
  format: 'morphux-content-keys-v1';
  keys: Array<{ id: string; key: string }>;
}

export class PublishKeys {
  constructor(private readonly p: PublishPaths) {}

  private async active(): Promise<ActiveDoc | null> {
    return readJsonFile<ActiveDoc>(this.p.activeKeys);
  }

  async exists(): Promise<boolean> {
    return (await this.active()) !== null;
  }

  /** Creates the first keys; already_exists when there are keys. */
  async init(): Promise<{ signing: string; content: string }> {
    if (await this.active()) throw new MorphuxError('already_exists', 'publishing keys exist; use `morphux keys rotate` to replace them');
    return this.makeActive(null);
  }

  /**
   * New keys become active; the old ones are kept for what was published under them. The old
   * signing key signs the statement naming the new one (`rotation`: its number).
   */
  async rotate(): Promise<{ signing: string; content: string; rotation: number }> {
    const cur = await this.active();
    if (!cur) throw new MorphuxError('not_found', 'no publishing keys yet: run `morphux keys init`');
    const made = await this.makeActive(cur);
    const rotations = await this.rotations();
    return { ...made, rotation: rotations.length };
  }

  /**
   * Every signed rotation statement, in order, as files for the mirrors (keys/rotation-<n>.json and
   * .sig, kept locally under artifacts/). Derived from the key history and written when missing:
   * Ed25519 signatures are deterministic, so the same history always gives the same bytes.
   */
  async rotations(): Promise<PublishedFile[]> {
    const history = (await this.active())?.history ?? [];
    const out: PublishedFile[] = [];
    for (let n = 1; n < history.length; n++) {
      const rel = remoteRotationPath(n);
      const sigRel = `${rel}.sig`;
      if (!existsSync(this.p.local(rel)) || !existsSync(this.p.local(sigRel))) {
        const old = await this.signingKey(history[n - 1].signing);
        const next = await this.signingKey(history[n].signing);
        const r = signRotation({ number: n, oldKeyId: old.id, oldPrivateKey: old.privateKey, newPublicKey: next.publicKey, rotatedAt: history[n].at });
        await mkdir(path.dirname(this.p.local(rel)), { recursive: true });
        await atomicWrite(this.p.local(sigRel), r.sig);
        await atomicWrite(this.p.local(rel), r.json);
      }
      const json = await readFile(this.p.local(rel));
      out.push({ path: rel, sig_path: sigRel, size: json.length, sha256: createHash('sha256').update(json).digest('hex') });
    }
    return out;
  }

  private async makeActive(cur: ActiveDoc | null): Promise<{ signing: string; content: string }> {
    for (const d of [this.p.keys, this.p.signingKeys, this.p.contentKeys]) {
      await mkdir(d, { recursive: true, mode: 0o700 });
      await chmod(d, 0o700);
    }
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const signing = signingKeyId(publicKey);
    await atomicWrite(path.join(this.p.signingKeys, `${signing}.pem`), privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
    const key = randomBytes(32);
    const content = contentKeyId(key);
    await atomicWrite(path.join(this.p.contentKeys, `${content}.key`), key.toString('base64') + '\n', 0o600);
    const at = new Date().toISOString();
    const doc: ActiveDoc = { signing, content, history: [...(cur?.history ?? []), { signing, content, at }] };
    await atomicWriteJson(this.p.activeKeys, doc, 0o600);
    return { signing, content };
  }

  private async need(): Promise<ActiveDoc> {
    const a = await this.active();
    if (!a) throw new MorphuxError('not_found', 'no publishing keys: run `morphux keys init`');
    return a;
  }

  async signingKey(id?: string): Promise<SigningKey> {
    const keyId = id ?? (await this.need()).signing;
    let pem: string;
    try {
      pem = await readFile(path.join(this.p.signingKeys, `${keyId}.pem`), 'utf8');
    } catch {
      throw new MorphuxError('not_found', `no signing key ${keyId}`);
    }
    const privateKey = privateKeyFromPem(pem);
    return { id: keyId, privateKey, publicKey: createPublicKey(privateKey) };
  }

  async contentKey(id?: string): Promise<ContentKey> {
    const keyId = id ?? (await this.need()).content;
    try {
      return { id: keyId, key: Buffer.from((await readFile(path.join(this.p.contentKeys, `${keyId}.key`), 'utf8')).trim(), 'base64') };
    } catch {
      throw new MorphuxError('not_found', `no content key ${keyId}`);
    }
  }

  /** Every signing key's public half, the active one first. */
  async publicKeys(): Promise<PublicKeyInfo[]> {
    const a = await this.need();
    const ids = (await readdir(this.p.signingKeys)).filter((f) => f.endsWith('.pem')).map((f) => f.slice(0, -4));
    const out: PublicKeyInfo[] = [];
    for (const id of ids) {
      const k = await this.signingKey(id);
      out.push({ key_id: id, public_key: formatPublicKey(k.publicKey), active: id === a.signing });
    }
    return out.sort((x, y) => Number(y.active) - Number(x.active) || x.key_id.localeCompare(y.key_id));
  }

  /** All content keys, for the subscribers' key file. */
  async contentKeysFile(): Promise<ContentKeysFile> {
    await this.need();
    const ids = (await readdir(this.p.contentKeys)).filter((f) => f.endsWith('.key')).map((f) => f.slice(0, -4)).sort();
    const keys: ContentKeysFile['keys'] = [];
    for (const id of ids) keys.push({ id, key: (await this.contentKey(id)).key.toString('base64') });
    return { format: 'morphux-content-keys-v1', keys };
  }
}
