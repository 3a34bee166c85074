// Text and JSON from outside (request bodies, package.json, file names): bytes must be valid
// UTF-8 (never silently replaced), free-text fields hold no control characters but tab and
// newline, and JSON may not carry keys that reach a prototype (__proto__, constructor, prototype).
import { MorphuxError, type ErrorCode } from './errors.js';

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** C0 controls but tab and newline (CR too when `multiline`), DEL, C1 controls, and the bidi
 *  overrides and isolates that make text display other than it reads (Trojan Source). */
const CONTROL_MULTILINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROL_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether `s` holds a character no free-text field may hold (tab and newline allowed when multiline). */
export function hasControlChars(s: string, multiline = true): boolean {
  return (multiline ? CONTROL_MULTILINE : CONTROL_ONE_LINE).test(s);
}

/** The bytes as a string, or `code` when they are not valid UTF-8. */
export function decodeUtf8(bytes: Buffer | Uint8Array, code: ErrorCode, what: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new MorphuxError(code, `${what} is not valid UTF-8`);
  }
}

/** JSON.parse that refuses keys reaching a prototype (at any depth) with `code`. */
export function parseUntrustedJson(text: string, code: ErrorCode, what: string): unknown {
  let bad: string | null = null;
  let v: unknown;
  try {
    v = JSON.parse(text, (key, value: unknown) => {
      if (FORBIDDEN_JSON_KEYS.has(key)) bad ??= key;
      return value;
    });
  } catch (e) {
    throw new MorphuxError(code, `${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (bad !== null) throw new MorphuxError(code, `${what} may not hold a key named ${JSON.stringify(bad)}`, { key: bad });
  return v;
}
