// TLS trust for mirrors (the publisher's FTPS uploads, mpm's ftps:// and https:// downloads): the
// CAs a client trusts, the system's plus those of an operator's or user's PEM file, and one clear
// `tls_untrusted` error for a certificate that does not verify. No I/O.
import { rootCertificates } from 'node:tls';
import { MorphuxError } from './errors.js';

/** Certificate checks that failed (OpenSSL's codes as Node reports them), not network errors. */
const CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE', 'CERT_REJECTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The `ca` option of a TLS connection: undefined (Node's defaults) or the system CAs and the extra PEM. */
export function trustedCas(extraPem: string | null | undefined): string[] | undefined {
  return extraPem ? [...rootCertificates, extraPem] : undefined;
}

/**
 * A MorphuxError `tls_untrusted` when `e` is a failed certificate check (what to do about it in
 * the message: `fix`), else null.
 */
export function untrustedCertificate(e: unknown, where: string, fix: string): MorphuxError | null {
  let cur: unknown = e;
  for (let i = 0; cur && i < 4; i++, cur = (cur as { cause?: unknown }).cause) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && CERT_CODES.has(code)) {
      return new MorphuxError('tls_untrusted', `${where}: the TLS certificate does not verify (${code}: ${(cur as Error).message}); ${fix}`, { tls_code: code });
    }
  }
  return null;
}
