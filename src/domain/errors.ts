// Typed errors: every failure the system reports carries a stable `code` (tests and clients
// check the code, never the message) and an optional `data` object. Only server/ maps codes to
// HTTP statuses (server/error-status.ts).

export const ErrorCodes = [
  'bad_request', // malformed input that fits no finer code
  'invalid_name', // a package, user or tag name outside its grammar
  'invalid_version', // a version or range that does not parse
  'invalid_manifest', // package.json missing, not JSON, or not the schema
  'name_mismatch', // package.json name is not the repo's name
  'version_mismatch', // package.json version is not the branch's version
  'non_fast_forward', // a version branch rewritten
  'branch_deletion', // a version branch deleted
  'unauthenticated', // no or bad credentials
  'forbidden', // good credentials, not allowed
  'not_found',
  'already_exists',
  'too_large', // a body or archive over its configured limit
  'unsupported_media_type', // a request body of a type the endpoint does not take
  'unsafe_archive', // traversal, links leading out, devices, bombs
  'config_invalid',
  'dependency', // a dependency cannot be resolved
  'infrastructure', // the machinery failed, not the package
  'timeout',
  'unavailable', // the server is at a limit (git processes at once): try again later
  'rate_limited', // too many actions of one kind from one user or address (a throttle's bucket is empty); data.retry_after_s
  'conflict',
  'not_rebuildable', // a rebuild check asked of a submission that is not good (morphux rebuild)
  'internal',
  'signature_invalid', // a signed index or artifact whose signature does not verify
  'digest_mismatch', // bytes whose size or sha256 differ from what the signed index says
  'decrypt_failed', // an artifact that does not decrypt (wrong key, or tampered: the GCM tag fails)
  'unknown_key', // signed or encrypted under a key the client does not trust or hold
  'index_replayed', // a signed index older (lower sequence) than one already seen
  'index_expired', // a signed index past its valid_until
  'tls_untrusted', // a TLS peer (an FTPS or HTTPS mirror) whose certificate does not verify against the trusted CAs
  'provenance_missing', // a build without provenance where it is required (mpm install --require-provenance)
  'provenance_invalid', // build provenance malformed, unsigned, or not signed by a trusted key (data.reason)
  'provenance_mismatch', // verified provenance that names other digests or dependencies than the install plan
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export class MorphuxError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'MorphuxError';
    this.code = code;
    this.data = data;
  }
}

export function isMorphuxError(e: unknown, code?: ErrorCode): e is MorphuxError {
  return e instanceof MorphuxError && (code === undefined || e.code === code);
}
