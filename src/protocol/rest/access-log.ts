/**
 * The one access-log line per HTTP request, written by both HTTP paths: fastify's onResponse hook
 * and the infer route on the raw server. Nothing is built when the level is off.
 */
import type { Logger } from 'pino';
import { clip } from '../../core/clip.js';
import { redactUrl } from '../../observability/logger.js';
import type { InferLogFields } from './v2-routes.js';

export interface AccessEntry {
  reqId: string;
  method: string | undefined;
  url: string;
  status: number;
  /** Milliseconds from arrival to the answer. */
  ms: number;
}

export function logAccess(
  log: Logger,
  level: 'info' | 'debug',
  entry: AccessEntry,
  fields?: InferLogFields,
): void {
  if (!log.isLevelEnabled(level)) return;
  const line = {
    reqId: entry.reqId,
    method: entry.method,
    url: clip(redactUrl(entry.url), 256),
    status: entry.status,
    ms: Math.round(entry.ms * 100) / 100,
    ...fields,
  };
  if (level === 'debug') log.debug(line, 'request');
  else log.info(line, 'request');
}
