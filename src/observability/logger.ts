/** pino JSON logs. Secrets never reach a log line (redaction), nor do payloads (never logged). */
import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'inferd' },
    redact: {
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        'authorization',
        'apiKey',
        'api_key',
        'key',
      ],
      censor: '[redacted]',
    },
  });
}
