// HTTP over a raw socket, for requests no HTTP client will send (control characters in headers,
// garbage, bodies dripped a byte at a time): the bytes the server answered, parsed when they are
// a response, and when the server closed the connection.
import net from 'node:net';

export interface RawAnswer {
  status: number | null;
  json: any;
  /** ms from connecting to the server closing the connection */
  closedAfterMs: number;
}

/** Parses what a server sent on a connection: status line and JSON body (or nulls). */
export function parseRaw(bytes: Buffer): { status: number | null; json: any } {
  const text = bytes.toString('utf8');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1];
  let json: any = null;
  try { json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)); } catch { /* not JSON */ }
  return { status: status ? Number(status) : null, json };
}

/** Connects, sends `parts` one after another `everyMs` apart (at once when 0), and resolves when
 *  the server closes the connection (or after `giveUpMs`). */
export function rawExchange(url: string, parts: Array<string | Buffer>, everyMs = 0, giveUpMs = 60_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const got: Buffer[] = [];
    const sock = net.connect(Number(port), hostname);
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      sock.destroy();
      resolve({ ...parseRaw(Buffer.concat(got)), closedAfterMs: Date.now() - started });
    };
    const giveUp = setTimeout(done, giveUpMs);
    sock.on('data', (c) => got.push(c));
    sock.on('close', done);
    sock.on('error', () => {});
    sock.on('connect', () => {
      if (everyMs === 0) return void sock.write(Buffer.concat(parts.map((p) => Buffer.from(p))));
      let i = 0;
      timer = setInterval(() => {
        if (i < parts.length && !sock.destroyed) sock.write(parts[i++]);
      }, everyMs);
    });
  });
}

/** A string as its single characters (a drip of one byte per part for ASCII). */
export const bytewise = (s: string): string[] => [...s];
