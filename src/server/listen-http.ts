// Listening and closing the way every Morphux server does: the slow-client timeouts from config,
// bind, learn the port (0 picks one), name a local URL (a wildcard address is reached on
// 127.0.0.1), answer a request Node cannot parse or that came too slowly with a JSON error, and
// close with every connection.
import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/config-schema.js';

export interface Listening {
  port: number;
  /** the address local processes use: the bound host, or 127.0.0.1 for a wildcard */
  localHost: string;
  /** http://<localHost>:<port> */
  url: string;
}

const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);

/** Options of every Morphux http.Server: headers and whole requests must arrive in time (a
 *  slow-drip client is cut off with a 408), checked every second rather than Node's 30 s. */
export function httpServerOptions(server: Pick<Config['server'], 'headers_timeout_seconds' | 'request_timeout_seconds'>): ServerOptions {
  const headersTimeout = server.headers_timeout_seconds * 1000;
  return {
    headersTimeout,
    requestTimeout: Math.max(server.request_timeout_seconds * 1000, headersTimeout),
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  };
}

/** What a request Node refused before any handler saw it gets: the status and the error code. */
function clientErrorAnswer(code: string | undefined): [number, string, string, string] {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT': return [408, 'Request Timeout', 'timeout', 'the request did not arrive in time'];
    case 'HPE_HEADER_OVERFLOW': return [431, 'Request Header Fields Too Large', 'too_large', 'the request headers are too large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW': return [413, 'Content Too Large', 'too_large', 'the chunk extensions are too large'];
    default: return [400, 'Bad Request', 'bad_request', 'the request is not valid HTTP'];
  }
}

function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent && err.code !== 'ECONNRESET') {
    const [status, text, code, message] = clientErrorAnswer(err.code);
    const body = JSON.stringify({ error: { code, message } });
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), 2000).unref(); // a client that never closes its end
    return;
  }
  socket.destroy();
}

export async function listenHttp(server: Server, listen: { host: string; port: number }): Promise<Listening> {
  server.on('clientError', onClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const localHost = ['0.0.0.0', '::', ''].includes(listen.host) ? '127.0.0.1' : listen.host;
  return { port, localHost, url: `http://${bracket(localHost)}:${port}` };
}

export function closeHttp(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export const hostUrl = (host: string, port: number): string => `http://${bracket(host)}:${port}`;
