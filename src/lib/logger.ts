// The one logger: pino, JSON lines on stderr. Modules take a child logger tagged with what they
// work on (package, pkgid, job); secrets (tokens, Authorization headers) are redacted.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = 'info'): Logger {
  return pino({
    level,
    base: { service: 'morphux' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
  }, pino.destination(2));
}

export const silentLogger: Logger = pino({ level: 'silent' });
