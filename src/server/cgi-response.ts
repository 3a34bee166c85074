// Relaying a CGI program's output as an HTTP response: parse the CGI head (Status: and the other
// header lines), then stream the body with backpressure. The head is sent with the first body
// byte (or at the end), so the caller can still answer 413/502 until the program starts its body.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export interface CgiHead {
  status: number;
  headers: [string, string][];
  /** Offset of the first body byte in the buffer given to parseCgiHead. */
  bodyStart: number;
}

const MAX_HEAD_BYTES = 64 * 1024;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HOP_BY_HOP = new Set(['connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'trailer']);

/** The head of CGI output, null while it is incomplete; throws on a malformed head. */
export function parseCgiHead(buf: Buffer): CgiHead | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  let end: number;
  let sep: number;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, sep] = [crlf, 4];
  else if (lf >= 0) [end, sep] = [lf, 2];
  else {
    if (buf.length > MAX_HEAD_BYTES) throw new Error('CGI head too long');
    return null;
  }
  let status = 200;
  const headers: [string, string][] = [];
  for (const line of buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!HEADER_NAME.test(name)) throw new Error(`malformed CGI header line ${JSON.stringify(line.slice(0, 100))}`);
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const code = Number(/^(\d{3})/.exec(value)?.[1]);
      if (!(code >= 100 && code <= 599)) throw new Error(`malformed CGI status ${JSON.stringify(value)}`);
      status = code;
    } else if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push([name, value]);
  }
  return { status, headers, bodyStart: end + sep };
}

export interface CgiRelay {
  /** True once the HTTP head has gone out: from then on an error can only cut the response. */
  readonly committed: boolean;
}

/** Pipe CGI output to res. fail() is called (once) when the output is not valid CGI. */
export function relayCgiOutput(out: Readable, res: ServerResponse, fail: (why: string) => void): CgiRelay {
  let pending: Buffer | null = Buffer.alloc(0);
  let head: CgiHead | null = null;
  const state = { committed: false };
  const commit = () => {
    if (state.committed || !head || res.headersSent || res.destroyed) return;
    state.committed = true;
    res.writeHead(head.status, head.headers);
  };
  out.on('data', (chunk: Buffer) => {
    if (pending !== null) {
      pending = Buffer.concat([pending, chunk]);
      try {
        head = parseCgiHead(pending);
      } catch (e) {
        pending = null;
        out.resume();
        fail((e as Error).message);
        return;
      }
      if (!head) return;
      chunk = pending.subarray(head.bodyStart);
      pending = null;
      if (chunk.length === 0) return;
    }
    if (!head) return; // after a failure: drain and drop
    commit();
    if (res.destroyed || res.writableEnded) return;
    if (!res.write(chunk)) {
      out.pause();
      res.once('drain', () => out.resume());
    }
  });
  out.on('end', () => {
    if (pending !== null) {
      pending = null;
      fail('the CGI program ended without a head');
      return;
    }
    if (!head) return;
    commit();
    if (state.committed && !res.writableEnded) res.end();
  });
  out.on('error', () => {}); // the caller sees the program's exit; a broken pipe is not ours to throw
  return state;
}
