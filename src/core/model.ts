/**
 * What a loaded model and the server say about themselves: the shapes every layer shares (runtimes
 * produce them, the service answers them, transports and clients encode and decode them).
 */
import type { Datatype } from './tensor.js';

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** Full shape including the batch dim when the model batches; -1 marks a dynamic dim. */
  shape: number[];
}

/** What a backend reports once it has loaded a version. */
export interface BackendMetadata {
  /** KServe/Triton platform string, e.g. `onnxruntime_onnx`, `pipeline`. */
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** The version's lineage manifest (repository/lineage.ts), an inferd extension of the REST shape. */
  lineage?: Readonly<Record<string, unknown>>;
}

/** The Open Inference Protocol's server metadata (`GET /v2`). */
export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** The Open Inference Protocol's model metadata (`GET /v2/models/{m}[/versions/{v}]`). */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}
