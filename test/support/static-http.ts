// A static HTTP server for tests: node:http on a free loopback port serving one folder read-only
// (GET and HEAD, 404 for anything missing or outside it), as a web server in front of a mirror's
// files would. close() stops it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';

export interface StaticHttp {
  url: string;
  close(): Promise<void>;
}

export async function serveFolder(root: string): Promise<StaticHttp> {
  const base = path.resolve(root);
  const server: Server = createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.resolve(base, `.${rel}`);
    const st = (file === base || file.startsWith(base + path.sep)) && ['GET', 'HEAD'].includes(req.method ?? '')
      ? await stat(file).catch(() => null) : null;
    if (!st?.isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
