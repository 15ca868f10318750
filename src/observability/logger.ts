// pino JSON logs. Redaction is a second line of defence: raw session ids never reach a log call at all,
// but a header or token that slips into a logged object is masked.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
  '*.session_id', '*.new_session_id', 'session_id', 'new_session_id', '*.token', 'token', '*.secret', 'secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const opts: LoggerOptions = { level, base: { service: 'replayguard' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts, pino.destination(2));
}
