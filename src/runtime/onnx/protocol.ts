/** Messages between the ONNX backend (main thread) and its worker threads. */
import type { TensorSpec } from '../../core/model.js';
import type { ExecPoint } from '../tuning.js';
import type { WireTensor } from './convert.js';

export interface SessionSettings {
  /** A file path, or the model bytes. */
  model: string | Uint8Array;
  intraOpNumThreads: number;
  executionProvider: 'cpu' | 'cuda';
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'all';
  /** Priority of the worker thread and the ONNX Runtime threads it creates (Linux). */
  threadPriority: 'idle' | 'low' | 'normal';
}

export type ToWorker =
  | { type: 'load'; settings: SessionSettings }
  | { type: 'infer'; id: number; inputs: WireTensor[]; outputNames: string[] }
  /** Times the session on synthetic inputs of these batch sizes (0 = the model has no batch dim). */
  | { type: 'calibrate'; batches: number[]; sample?: WireTensor[] }
  | { type: 'unload' };

export type FromWorker =
  | { type: 'loaded'; inputs: TensorSpec[]; outputs: TensorSpec[] }
  | { type: 'load_failed'; message: string }
  | { type: 'result'; id: number; outputs: WireTensor[]; computeNs: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'calibrated'; points: ExecPoint[] }
  | { type: 'calibrate_failed'; message: string }
  | { type: 'unloaded' };
