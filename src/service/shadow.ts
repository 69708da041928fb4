/**
 * Shadow requests: a copy of a request production answers, run on the candidate after the primary
 * answer is written, never awaited by it and never returned. Shed first: when any other request is
 * in flight, the candidate's scheduler has anything queued or running, or its background lane is
 * busy or still starting, the mirror is dropped (counted) rather than queued, so shadow work never
 * waits in front of real traffic; on the ONNX backend it computes at idle priority, so a request
 * arriving while it runs gets the cores.
 */
import { BytesData } from '../core/bytes-data.js';
import type { InferenceRequest, Tensor } from '../core/tensor.js';
import type { ReadyVersion } from '../repository/model-version.js';
import { toJob } from './job.js';
import { compareOutputs, type Agreement } from './rollout/agreement.js';

type ShadowOutcome = 'compared' | 'shed' | 'failed';

interface ShadowReport {
  model: string;
  /** The candidate version that ran the mirror. */
  version: string;
  outcome: ShadowOutcome;
  agreement?: Agreement;
  /** The mirror's time in the server, queue and compute (ms). */
  latencyMs?: number;
}

export type ShadowSink = (r: ShadowReport) => void;

/**
 * A copy of the request's inputs: the primary's own buffers are transferred to a worker thread
 * (and detached) when it runs, so the mirror needs its own, taken before the primary is enqueued.
 */
export function copyInputs(req: InferenceRequest): InferenceRequest {
  const inputs: Tensor[] = req.inputs.map((t) => ({
    ...t,
    shape: [...t.shape],
    data:
      t.data instanceof BytesData
        ? BytesData.fromArrays(t.data.toArrays().map((a) => a.slice()))
        : t.data.slice(),
  }));
  const { signal: _signal, ...rest } = req;
  return { ...rest, inputs };
}

/** True when the candidate has work queued or running: the mirror is shed. */
function busy(candidate: ReadyVersion): boolean {
  return candidate.scheduler.full || candidate.scheduler.pending > 0;
}

/**
 * Runs the mirror and reports it; never throws, never rejects. It starts on the next turn of the
 * event loop, after the primary answer has been encoded and written, and only when the server has
 * no other request in flight (`othersBusy`) and the candidate is idle: on a server with few cores
 * a mirror computing beside a real request slows it (bench/results/rollout-shadow.md).
 */
export function runShadow(
  copy: InferenceRequest,
  primaryOutputs: readonly Tensor[],
  candidate: ReadyVersion,
  sink: ShadowSink,
  othersBusy: () => boolean,
): void {
  setImmediate(() => {
    const base = { model: copy.modelName, version: candidate.version };
    if (othersBusy() || busy(candidate)) {
      sink({ ...base, outcome: 'shed' });
      return;
    }
    const started = performance.now();
    let job;
    try {
      job = toJob({ ...copy, modelVersion: candidate.version }, candidate);
    } catch {
      sink({ ...base, outcome: 'failed' });
      return;
    }
    // A backend with a background lane (ONNX: an idle-priority session) runs the mirror beside the
    // scheduler, where it cannot take a core from real requests; others queue it on the scheduler.
    let run: Promise<readonly Tensor[]> | undefined;
    if (candidate.backend?.background) {
      try {
        run = candidate.backend.background(job.inputs, job.outputNames);
      } catch {
        run = Promise.reject(new Error('background run failed'));
      }
      if (!run) {
        sink({ ...base, outcome: 'shed' });
        return;
      }
    } else {
      run = candidate.scheduler.enqueue(job).then((r) => r.outputs);
    }
    run.then(
      (outputs) =>
        sink({
          ...base,
          outcome: 'compared',
          agreement: compareOutputs(primaryOutputs, outputs),
          latencyMs: performance.now() - started,
        }),
      () => sink({ ...base, outcome: 'failed', latencyMs: performance.now() - started }),
    );
  });
}
