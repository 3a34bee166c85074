// Logs of running builds, for GET /api/v1/pkg/<pkgid>/log: each build's output as it comes,
// kept in memory (up to a cap) while it runs, with subscribers that are told of every chunk and
// of the end. A finished build's log is read from its report in the store instead. Builds of one
// submission for several arches at once share its log, which ends when the last of them ends.
import { EventEmitter } from 'node:events';

interface LiveLog {
  chunks: Buffer[];
  bytes: number;
  done: boolean;
  /** builds writing to it */
  writers: number;
  events: EventEmitter;
}

export class LiveLogs {
  private readonly logs = new Map<number, LiveLog>();

  constructor(private readonly maxBytes = 4 * 1024 * 1024) {}

  start(pkgid: number): void {
    const open = this.logs.get(pkgid);
    if (open && !open.done) {
      open.writers += 1;
      return;
    }
    const events = new EventEmitter();
    events.setMaxListeners(0);
    this.logs.set(pkgid, { chunks: [], bytes: 0, done: false, writers: 1, events });
  }

  append(pkgid: number, chunk: Buffer): void {
    const l = this.logs.get(pkgid);
    if (!l || l.done) return;
    if (l.bytes < this.maxBytes) {
      l.chunks.push(chunk);
      l.bytes += chunk.length;
    }
    l.events.emit('data', chunk);
  }

  end(pkgid: number): void {
    const l = this.logs.get(pkgid);
    if (!l) return;
    l.writers -= 1;
    if (l.writers > 0) return;
    l.done = true;
    l.events.emit('end');
    this.logs.delete(pkgid);
  }

  /** The log so far and a way to follow it, or null when that build is not running here. */
  follow(pkgid: number, onData: (c: Buffer) => void, onEnd: () => void): { sofar: Buffer; stop: () => void } | null {
    const l = this.logs.get(pkgid);
    if (!l) return null;
    l.events.on('data', onData);
    l.events.once('end', onEnd);
    return {
      sofar: Buffer.concat(l.chunks),
      stop: () => {
        l.events.off('data', onData);
        l.events.off('end', onEnd);
      },
    };
  }
}
