/** What the scheduler reports; observability implements it (metrics + Triton statistics). */

/** Failure reasons, the `reason` label of inferd_request_failure_total. */
export type FailureReason = 'rejected' | 'timeout' | 'canceled' | 'invalid' | 'backend';

export interface SchedulerObserver {
  /** Requests queued or executing for this version, after a change. */
  pendingChanged(pending: number): void;
  /** One model execution: `rows` batch rows from `requests` requests. */
  executed(rows: number, requests: number, inputNs: number, inferNs: number, outputNs: number): void;
  /** A request left the queue for execution after `queueNs`. */
  dequeued(queueNs: number): void;
}
