// Listening and closing the way every Morphux server does: bind, learn the port (0 picks one),
// name a local URL (a wildcard address is reached on 127.0.0.1), and close with every connection.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  port: number;
  /** the address local processes use: the bound host, or 127.0.0.1 for a wildcard */
  localHost: string;
  /** http://<localHost>:<port> */
  url: string;
}

const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);

export async function listenHttp(server: Server, listen: { host: string; port: number }): Promise<Listening> {
  server.on('clientError', (_err, socket) => socket.destroy());
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
