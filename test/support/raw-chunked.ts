// A chunked request body of any size over a raw socket, made from one reused chunk (so the client
// holds no more than that chunk in memory, and a test can watch its own process's memory while it
// sends to a server in the same process): writes chunk after chunk, as fast as the socket drains,
// until `total` bytes are sent or the server answers, and returns the answer and the bytes sent.
import net from 'node:net';
import { parseRaw } from './raw-http.js';

export interface ChunkedAnswer {
  status: number | null;
  json: any;
  /** the whole answer as text, headers included */
  text: string;
  /** body bytes the client had written when the exchange ended */
  sentBytes: number;
}

/** `head`: the request line and headers, each ending with CRLF (Transfer-Encoding: chunked is added).
 *  With `declared`, a Content-Length of `total` is sent instead, and no body. */
export function rawChunkedFlood(url: string, head: string, total: number, chunkBytes = 64 * 1024, giveUpMs = 120_000, declared = false): Promise<ChunkedAnswer> {
  const { hostname, port } = new URL(url);
  const chunk = Buffer.alloc(chunkBytes, 0x61);
  const frame = Buffer.concat([Buffer.from(`${chunkBytes.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    let sent = 0;
    let finished = false;
    const sock = net.connect(Number(port), hostname);
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(giveUp);
      sock.destroy();
      const bytes = Buffer.concat(got);
      resolve({ ...parseRaw(bytes), text: bytes.toString('utf8'), sentBytes: sent });
    };
    const giveUp = setTimeout(done, giveUpMs);
    /** a whole response (headers and a Content-Length body) has arrived */
    const complete = (): boolean => {
      const bytes = Buffer.concat(got);
      const end = bytes.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(bytes.subarray(0, end).toString('latin1'))?.[1];
      return len !== undefined && bytes.length - end - 4 >= Number(len);
    };
    sock.on('data', (c) => {
      got.push(c);
      if (complete()) done();
    });
    sock.on('close', done);
    sock.on('error', () => {});
    const pump = () => {
      while (!finished && !sock.destroyed && got.length === 0) {
        if (sent >= total) {
          sock.write('0\r\n\r\n');
          return;
        }
        sent += chunkBytes;
        if (!sock.write(frame)) return void sock.once('drain', pump);
      }
    };
    sock.on('connect', () => {
      if (declared) return void sock.write(`${head}Content-Length: ${total}\r\n\r\n`);
      sock.write(`${head}Transfer-Encoding: chunked\r\n\r\n`);
      pump();
    });
  });
}

/** Runs `fn` (a flood, say) while sampling this process's RSS; its answer and the RSS growth at
 *  the peak: what a server in this process held of a body it should not. */
export async function watchingRss<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - rss0 };
  } finally {
    clearInterval(sample);
  }
}
