/**
 * One version of one model and its lifecycle (Triton's model_lifecycle):
 *   LOADING → READY | UNAVAILABLE(reason);  READY → UNLOADING → UNAVAILABLE('unloaded').
 * A READY version owns its backend and scheduler.
 */
import type { Backend } from '../runtime/backend.js';
import type { BackendMetadata } from '../core/model.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { ModelObserver } from '../observability/model-observer.js';
import type { ModelConfig } from '../core/model-config.js';
import type { DriftWindow } from '../observability/drift-window.js';

const STATES = ['LOADING', 'READY', 'UNLOADING', 'UNAVAILABLE'] as const;
export type VersionState = (typeof STATES)[number];

/** A READY version, with the scheduler and metadata that loading set (isReady checks). */
export type ReadyVersion = ModelVersion & {
  readonly scheduler: Scheduler;
  readonly metadata: BackendMetadata;
};

export function isReady(v: ModelVersion): v is ReadyVersion {
  return v.ready && v.scheduler !== undefined && v.metadata !== undefined;
}

export class ModelVersion {
  state: VersionState = 'LOADING';
  reason = '';
  backend: Backend | undefined;
  scheduler: Scheduler | undefined;
  metadata: BackendMetadata | undefined;
  /** The version's lineage.json, verified against the model file at load (lineage.ts). */
  lineage: Readonly<Record<string, unknown>> | undefined;
  /** Live drift against the version's drift_reference.json, when it has one (drift-window.ts). */
  drift: DriftWindow | undefined;
  /** Classification labels per output name (labels.ts), for the classification extension. */
  outputLabels: ReadonlyMap<string, readonly string[]> | undefined;
  /**
   * Unloaded on purpose while the model serves on (a finished rollout retired it: version-retire.ts):
   * not a failure, so strict readiness does not wait for it.
   */
  retired = false;
  /** False once a newer load of the same version owns the (model, version) metric labels. */
  private reportsState = true;

  constructor(
    readonly name: string,
    readonly version: string,
    /** As read; replaced by the auto-completed config once the backend has loaded (auto-complete.ts). */
    public config: ModelConfig,
    readonly observer: ModelObserver,
  ) {
    observer.stateChanged('LOADING', STATES);
  }

  setState(state: VersionState, reason = ''): void {
    this.state = state;
    this.reason = reason;
    if (this.reportsState) this.observer.stateChanged(state, STATES);
  }

  detachStateMetric(): void {
    this.reportsState = false;
  }

  get ready(): boolean {
    return this.state === 'READY';
  }

  /**
   * Leaving (UNLOADING) with its scheduler still open: a request admitted while the version was
   * READY whose body arrives now still runs on it (retire() drains until nothing is pending).
   */
  get draining(): boolean {
    return this.state === 'UNLOADING' && this.scheduler?.closed === false;
  }

  /**
   * Refuses a version that loaded but must not serve (e.g. it closes a call cycle): UNAVAILABLE at
   * once, then its backend is released. It never took a request.
   */
  async refuse(reason: string): Promise<void> {
    this.setState('UNAVAILABLE', reason);
    this.scheduler?.close(`model '${this.name}' version ${this.version} is unavailable: ${reason}`);
    const backend = this.backend;
    this.backend = undefined;
    await backend?.unload();
  }

  /** Stops taking requests, lets queued and executing ones finish, then releases the backend. */
  async retire(reason: string): Promise<void> {
    if (this.state === 'UNAVAILABLE' || this.state === 'UNLOADING') return;
    this.setState('UNLOADING', reason);
    // Until nothing is queued or running: a request admitted while READY may still arrive (draining).
    while (this.scheduler && this.scheduler.pending > 0) await this.scheduler.idle();
    this.scheduler?.close(`model '${this.name}' version ${this.version} is unloaded: ${reason}`);
    await this.backend?.unload();
    this.backend = undefined;
    this.setState('UNAVAILABLE', reason);
  }
}
