// The answer to an upload-pack POST (the pack of a clone or fetch) goes from git straight to the
// client's TCP socket: git-http-backend gets the socket as its stdout, and Node moves no byte of it.
// Relayed through Node, each pack byte was read from a pipe and written to the socket on the one
// event-loop thread, which made a 50 MB clone ~1.6× slower than `git clone file://`.
//
// Handing the socket over is safe because, for this request, the whole HTTP head is known before git
// runs. git-http-backend answers an upload-pack POST with 200 and its fixed no-cache and content
// type lines unless the service is off (never in our repos), the repo is gone (checked just before)
// or the content type is wrong (checked here first, 415). Everything it says afterwards is in the
// body, as it was when relayed. So the server reads the (small) request body first — a body over
// git's own 10 MiB request buffer is a 413 here, and a slow body holds no git process — then writes
// the status line and `Connection: close` (the body ends when the connection does: no length, no
// chunks), then starts git with the socket as stdout. When git exits the socket is shut down.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../lib/logger.js';
import { startBackend } from './backend-process.js';

/** git-http-backend buffers an upload-pack request in memory up to http.maxRequestBuffer (10 MiB by
 *  default) and refuses a larger one: nothing larger is worth reading. */
export const UPLOAD_PACK_REQUEST_MAX = 10 * 1024 * 1024;
export const UPLOAD_PACK_REQUEST_TYPE = 'application/x-git-upload-pack-request';
const STATUS_LINE = 'HTTP/1.1 200 OK\r\nConnection: close\r\n'; // git-http-backend's own header lines follow
const CLOSE_GRACE_MS = 5_000;

/** The request body, or why there is none: over the limit, or the client left. */
export function readSmallBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const done = (v: Buffer | 'too_large' | 'gone') => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      resolve(v);
    };
    const onData = (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.resume(); // drop the rest; the answer says why
        return done('too_large');
      }
      chunks.push(c);
    };
    const onEnd = () => done(Buffer.concat(chunks, n));
    const onClose = () => done('gone');
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}

/** Run git-http-backend with the client's socket as its stdout and body as its stdin; resolves when
 *  it has exited and the socket is shut down. env is the CGI environment of the request. */
export async function backendOntoSocket(
  req: IncomingMessage,
  backend: string,
  env: Record<string, string>,
  body: Buffer,
  cwd: string,
  log: Logger,
): Promise<void> {
  const socket = req.socket as Socket;
  if (socket.destroyed || !socket.writable) return;
  // on the wire before git writes a byte: git starts only once this write is flushed
  const written = await new Promise<boolean>((resolve) => socket.write(STATUS_LINE, (err) => resolve(!err)));
  if (!written || socket.destroyed) return;
  const git = startBackend(backend, { ...env, CONTENT_LENGTH: String(body.length) }, cwd, socket, log);
  git.child.stdin.end(body);
  const onClose = () => git.kill('client went away');
  socket.once('close', onClose);
  await git.finished();
  socket.off('close', onClose);
  // git wrote into the socket itself; the FIN goes after what it wrote. The client closes its end
  // on seeing it; one that does not is cut off after a grace period.
  if (!socket.destroyed) {
    socket.end();
    setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}
