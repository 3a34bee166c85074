// The one place error codes become HTTP statuses, and the JSON error body of every 4xx/5xx:
// {"error":{"code","message"}}. A 5xx never shows internals: its message is generic and the
// details go to the log.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isMorphuxError, type ErrorCode } from '../domain/errors.js';
import type { Logger } from '../lib/logger.js';

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  invalid_name: 400,
  invalid_version: 400,
  invalid_manifest: 422,
  name_mismatch: 422,
  version_mismatch: 422,
  non_fast_forward: 409,
  branch_deletion: 409,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  already_exists: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unsafe_archive: 422,
  config_invalid: 500,
  dependency: 422,
  infrastructure: 503,
  timeout: 504,
  unavailable: 503,
  rate_limited: 429,
  conflict: 409,
  not_rebuildable: 409,
  internal: 500,
  signature_invalid: 422,
  digest_mismatch: 422,
  decrypt_failed: 422,
  unknown_key: 422,
  index_replayed: 409,
  index_expired: 409,
  tls_untrusted: 502,
  provenance_missing: 404,
  provenance_invalid: 422,
  provenance_mismatch: 422,
};

/** The HTTP status of an error code, for the handlers that answer on Node's response (git-http). */
export function httpStatus(code: ErrorCode): number {
  return STATUS[code];
}

/** The Retry-After value (whole seconds, at least 1) of a rate_limited error's data.retry_after_s. */
export function retryAfter(data: Record<string, unknown>): string {
  const s = Number(data.retry_after_s);
  return String(Number.isFinite(s) && s >= 1 ? Math.ceil(s) : 1);
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function errorResponse(c: Context, err: unknown, log: Logger): Response {
  if (isMorphuxError(err)) {
    const status = STATUS[err.code] ?? 500;
    if (status >= 500) {
      log.error({ err, path: c.req.path }, 'request failed');
      return c.json(errorBody(err.code, 'internal error; see the server log'), status);
    }
    if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="morphux"');
    if (status === 429) c.header('Retry-After', retryAfter(err.data));
    return c.json(errorBody(err.code, err.message), status);
  }
  log.error({ err, path: c.req.path }, 'unexpected error');
  return c.json(errorBody('internal', 'internal error; see the server log'), 500);
}
