// A minimal QMP client (QEMU's JSON machine protocol) on a unix socket: what saving and restoring a
// build VM's state needs (capabilities, migrate, query-migrate, query-status, quit). One command
// at a time; events are ignored. QEMU creates the socket (-qmp unix:PATH,server=on,wait=off), so
// connecting retries until it exists or the deadline passes.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export class Qmp {
  private buf = '';
  private waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void } | null = null;
  private closed: Error | null = null;

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.onMessage(line);
      }
    });
    const end = (e?: Error) => {
      this.closed = e ?? new Error('QMP connection closed');
      this.waiting?.reject(this.closed);
      this.waiting = null;
    };
    sock.on('error', end);
    sock.on('close', () => end());
  }

  /** Connects to QEMU's QMP socket and leaves capabilities negotiation done. */
  static async connect(socketPath: string, timeoutMs: number): Promise<Qmp> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(socketPath, () => resolve(s));
          s.once('error', reject);
        });
        const q = new Qmp(sock);
        await q.reply(deadline); // the greeting
        await q.execute('qmp_capabilities', undefined, deadline - Date.now());
        return q;
      } catch (e) {
        if (Date.now() >= deadline) throw new Error(`no QMP on ${socketPath}: ${(e as Error).message}`);
        await sleep(5);
      }
    }
  }

  private onMessage(line: string): void {
    let msg: { QMP?: unknown; return?: unknown; error?: { desc?: string }; event?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (msg.event) return;
    const w = this.waiting;
    this.waiting = null;
    if (!w) return;
    if (msg.error) w.reject(new Error(`QMP: ${msg.error.desc ?? 'error'}`));
    else w.resolve(msg.QMP ?? msg.return);
  }

  private reply(deadline: number): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.waiting = null; reject(new Error('QMP timed out')); }, Math.max(1, deadline - Date.now()));
      this.waiting = {
        resolve: (v) => { clearTimeout(t); resolve(v); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
    });
  }

  async execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    const answer = this.reply(Date.now() + timeoutMs);
    this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    return (await answer) as T;
  }

  /** Polls `query` every `everyMs` until `done` says so (true) or the deadline passes (throws). */
  async until<T>(command: string, done: (r: T) => boolean, timeoutMs: number, everyMs = 10): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.execute<T>(command, undefined, Math.max(1, deadline - Date.now()));
      if (done(r)) return r;
      if (Date.now() >= deadline) throw new Error(`QMP ${command}: not done after ${timeoutMs} ms (${JSON.stringify(r)})`);
      await sleep(everyMs);
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
