/**
 * One model instance: a worker thread owning one ONNX Runtime session (Triton's instance_group
 * member). It computes one execution at a time, in the order they were sent; the backend may send
 * the next execution before the current one answers, so that the worker never waits for the event
 * loop between two executions.
 */
import { Worker } from 'node:worker_threads';
import { InferdError } from '../../errors.js';
import type { TensorSpec } from '../../core/model.js';
import { transferables, type WireTensor } from './convert.js';
import { OrtRunError } from './run-errors.js';
import type { FromWorker, SessionSettings, ToWorker } from './protocol.js';
import type { ExecPoint } from '../tuning.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

// ONNX Runtime 1.30 records a telemetry device ID and database under ~/.cache/Microsoft unless this
// is set (seen on every start: deviceid + onnxruntime.db); the server keeps to itself by default.
// Set before any worker loads the library; a user's own value (e.g. 0) is kept.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

interface Pending {
  resolve: (r: { outputs: WireTensor[]; computeNs: number }) => void;
  reject: (e: Error) => void;
}

export class OnnxInstance {
  private worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;
  private onUnloaded: (() => void) | undefined;
  private calibration: { resolve: (p: ExecPoint[]) => void; reject: (e: Error) => void } | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new Error(`worker thread exited with code ${code}`));
      this.onUnloaded?.();
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Starts a worker and loads the session; resolves with the model's own input/output metadata. */
  static async start(
    settings: SessionSettings,
  ): Promise<{ instance: OnnxInstance; inputs: TensorSpec[]; outputs: TensorSpec[] }> {
    const worker = new Worker(WORKER_URL);
    const loaded = await new Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }>((resolve, reject) => {
      const onMessage = (msg: FromWorker): void => {
        cleanup();
        if (msg.type === 'loaded') resolve({ inputs: msg.inputs, outputs: msg.outputs });
        else if (msg.type === 'load_failed') reject(new Error(msg.message));
        else reject(new Error(`unexpected worker message '${msg.type}' during load`));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new Error(`worker thread exited with code ${code} while loading`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ type: 'load', settings } satisfies ToWorker);
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    return { instance: new OnnxInstance(worker), ...loaded };
  }

  run(inputs: WireTensor[], outputNames: string[]): Promise<{ outputs: WireTensor[]; computeNs: number }> {
    if (this.exited)
      return Promise.reject(new InferdError('backend_error', 'the model instance has stopped'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      const msg: ToWorker = { type: 'infer', id, inputs, outputNames };
      this.worker.postMessage(msg, transferables(inputs));
    });
  }

  /**
   * Times the session on synthetic inputs, one batch size after another (tuning.ts uses the
   * curve). Call before the instance serves: the runs would delay requests.
   */
  calibrate(batches: number[], sample?: WireTensor[]): Promise<ExecPoint[]> {
    if (this.exited) return Promise.reject(new Error('the model instance has stopped'));
    return new Promise<ExecPoint[]>((resolve, reject) => {
      this.calibration = { resolve, reject };
      // Cloned, not transferred: the sample's buffers stay with the caller.
      this.worker.postMessage({
        type: 'calibrate',
        batches,
        ...(sample ? { sample } : {}),
      } satisfies ToWorker);
    });
  }

  /** Releases the session, then ends the thread. */
  async stop(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.onUnloaded = () => {
        clearTimeout(timer);
        resolve();
      };
      this.worker.postMessage({ type: 'unload' } satisfies ToWorker);
    });
    await this.worker.terminate();
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'unloaded') {
      this.onUnloaded?.();
      return;
    }
    if (msg.type === 'calibrated' || msg.type === 'calibrate_failed') {
      const c = this.calibration;
      this.calibration = undefined;
      if (msg.type === 'calibrated') c?.resolve(msg.points);
      else c?.reject(new Error(msg.message));
      return;
    }
    if (msg.type !== 'result' && msg.type !== 'failed') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.type === 'result') p.resolve({ outputs: msg.outputs, computeNs: msg.computeNs });
    // ORT's words, verbatim: the backend maps them (run-errors.ts), knowing the model and inputs.
    else p.reject(new OrtRunError(msg.message));
  }

  private fail(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.calibration?.reject(err);
    this.calibration = undefined;
    for (const p of all)
      p.reject(new InferdError('backend_error', `model instance failed: ${err.message}`, { cause: err }));
  }
}
