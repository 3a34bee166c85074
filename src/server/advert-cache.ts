// Under protocol v2 the answer to `GET /<repo>.git/info/refs?service=git-upload-pack` names no ref:
// it says what the server can do (`version 2`, `ls-refs=unborn`, `fetch=shallow …`, the object
// format), which git derives from its own version and config and the repo's config. Every clone,
// fetch and ls-remote starts with it, and producing it costs two process starts (git-http-backend,
// then upload-pack: ~30 ms on the 2-core machine), as much as the ls-refs and fetch requests after.
// So git-http-backend's answer is kept, per Git-Protocol header and repo config bytes, and replayed.
// Only an answer that says `version 2` and carries no per-process session id is kept. The git
// binary and its system and global config are taken as fixed while the server runs.
export interface KeptAnswer {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

const V2 = /(^|:)version=2(:|$)/;
const V2_BODY_START = Buffer.from('000eversion 2\n');
/** Repos with distinct configs are few; this bounds what odd ones can take. */
const MAX_ENTRIES = 64;

export class AdvertCache {
  private readonly entries = new Map<string, KeptAnswer>();

  /** Whether a request with this Git-Protocol header (already validated) is one the cache serves. */
  static wants(gitProtocol: string | undefined): gitProtocol is string {
    return gitProtocol !== undefined && V2.test(gitProtocol);
  }

  static key(gitProtocol: string, repoConfig: Buffer): string {
    return `${gitProtocol}\0${repoConfig.toString('latin1')}`; // a few hundred bytes: kept as they are
  }

  get(key: string): KeptAnswer | undefined {
    return this.entries.get(key);
  }

  /** Keep git's answer if it is a v2 capability advertisement that any request may be given. */
  offer(key: string, answer: KeptAnswer): void {
    if (answer.status !== 200 || !answer.body.subarray(0, V2_BODY_START.length).equals(V2_BODY_START)) return;
    if (answer.body.includes('session-id=')) return; // transfer.advertiseSID: one per git process
    if (!this.entries.has(key) && this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, answer);
  }

  get size(): number {
    return this.entries.size;
  }
}
