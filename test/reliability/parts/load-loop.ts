/**
 * A closed loop that runs until stopped (the bench's loops run for a fixed time): `callers`
 * concurrent callers, each sending its next request when the previous one answers, every answer
 * checked by `correct`. Errors are keyed as the bench keys them ("503 queue_full", "timeout",
 * "network ECONNRESET", "output mismatch").
 */
import { ClientError, type ClientRequest, type InferClient } from '../../../src/oip-client/types.js';
import type { InferenceResponse } from '../../../src/core/tensor.js';
import { ANSWER_BOUND_MS } from '../settings.js';

export interface LoopCounters {
  sent: number;
  ok: number;
  errors: Record<string, number>;
}

function errorKey(err: unknown): string {
  if (err instanceof ClientError) return `${err.status} ${err.code}`;
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return `network ${e?.cause?.code ?? e?.code ?? e?.name ?? 'error'}`;
}

export function closedLoopWhile(
  client: InferClient,
  request: ClientRequest,
  callers: number,
  correct: (res: InferenceResponse) => boolean,
  headers?: Record<string, string>,
): { stop(): Promise<LoopCounters> } {
  const c: LoopCounters = { sent: 0, ok: 0, errors: {} };
  let running = true;
  const caller = async (): Promise<void> => {
    while (running) {
      c.sent += 1;
      try {
        const res = await client.infer(request, {
          timeoutMs: ANSWER_BOUND_MS,
          ...(headers ? { headers } : {}),
        });
        if (correct(res)) c.ok += 1;
        else c.errors['output mismatch'] = (c.errors['output mismatch'] ?? 0) + 1;
      } catch (err) {
        const key = errorKey(err);
        c.errors[key] = (c.errors[key] ?? 0) + 1;
      }
    }
  };
  const all = Promise.all(Array.from({ length: callers }, caller));
  return {
    stop: async () => {
      running = false;
      await all;
      return c;
    },
  };
}
