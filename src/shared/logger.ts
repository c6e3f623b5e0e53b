/** Structured JSON logs (pino). Secrets never reach a log line: the redaction list is the safety net. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["stripe-signature"]',
  'headers.authorization',
  'authorization',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'password',
  '*.password',
];

export function createLogger(opts: { level: LevelWithSilent; name: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'billing-ledger', process: opts.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
