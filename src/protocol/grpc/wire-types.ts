/**
 * The protobuf messages of proto/grpc_service.proto as @grpc/proto-loader hands them over with the
 * options in proto-files.ts (keepCase, longs as strings, enums as strings, defaults, oneofs).
 * On the way out, 64-bit fields also accept numbers. The server's ModelInfer requests are the
 * exception: their typed contents are decoded by request-deserializer.ts (DecodedContents).
 */
import type { DecodedContents } from './contents-decode.js';

/** int64/uint64 fields: decoded as decimal strings, encoded from strings or numbers. */
export type Long64 = string | number;

type ParameterChoice = 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';

export interface WireParameter {
  bool_param?: boolean;
  int64_param?: Long64;
  string_param?: string;
  double_param?: number;
  uint64_param?: Long64;
  parameter_choice?: ParameterChoice;
}

export type WireParameters = Record<string, WireParameter>;

export interface WireContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Long64[];
  uint_contents?: number[];
  uint64_contents?: Long64[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

export interface WireTensor {
  name: string;
  datatype: string;
  shape: Long64[];
  parameters?: WireParameters;
  contents?: WireContents | DecodedContents | null;
}

interface WireRequestedOutput {
  name: string;
  parameters?: WireParameters;
}

export interface WireInferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: WireParameters;
  inputs: WireTensor[];
  outputs?: WireRequestedOutput[];
  raw_input_contents?: Uint8Array[];
}

export interface WireInferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  parameters?: WireParameters;
  outputs: WireTensor[];
  raw_output_contents?: Uint8Array[];
}

export interface WireStreamResponse {
  error_message: string;
  infer_response?: WireInferResponse | null;
}

interface WireTensorMetadata {
  name: string;
  datatype: string;
  shape: Long64[];
}

export interface WireModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: WireTensorMetadata[];
  outputs: WireTensorMetadata[];
}

export interface WireServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

/** Requests that name a model (ModelReady, ModelMetadata, ModelConfig, ModelStatistics). */
export interface WireModelRef {
  name: string;
  version?: string;
}

export interface WireRepositoryRequest {
  repository_name?: string;
  model_name: string;
  parameters?: Record<string, unknown>;
}
