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

/** Query parameters whose values never reach a log line (people do put keys in URLs). */
const SECRET_QUERY = /([?&](?:api_key|apikey|key|access_token|token)=)[^&#]*/gi;

/** The URL with secret-looking query values replaced, for access logs. */
export function redactUrl(url: string): string {
  return url.includes('?') ? url.replace(SECRET_QUERY, '$1[redacted]') : url;
}
