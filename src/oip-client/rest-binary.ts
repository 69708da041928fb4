/**
 * Open Inference Protocol v2 client over REST with Triton's binary tensor extension: every input
 * travels as raw bytes after the JSON header, and every output is asked for in binary
 * (`binary_data_output`, plus `binary_data` on each requested output).
 */
import { isDatatype, type InferenceResponse, type Tensor } from '../core/tensor.js';
import { dataToRaw, rawToData } from '../protocol/raw-tensor.js';
import { decodeJsonOutputs } from './json-response.js';
import { errorFrom, modelPath, RestJsonClient, signalFor } from './rest-json.js';
import { ClientError, type CallOptions, type ClientRequest, type InferClient } from './types.js';

interface HeaderOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: unknown[];
}

/** Encodes a request as JSON header + binary inputs; returns the body and the header length. */
export function encodeBinaryRequest(request: ClientRequest): { body: Buffer; headerLength: number } {
  const chunks: Uint8Array[] = [];
  const inputs = request.inputs.map((t) => {
    const raw = dataToRaw(t.datatype, t.data);
    chunks.push(raw);
    return {
      name: t.name,
      shape: t.shape,
      datatype: t.datatype,
      parameters: { ...t.parameters, binary_data_size: raw.byteLength },
    };
  });
  const header: Record<string, unknown> = {
    inputs,
    parameters: { ...request.parameters, binary_data_output: true },
  };
  if (request.id !== undefined) header.id = request.id;
  if (request.outputs) {
    header.outputs = request.outputs.map((o) => ({
      name: o.name,
      parameters: { ...o.parameters, binary_data: true },
    }));
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([json, ...chunks]), headerLength: json.length };
}

/** Decodes a response that may be JSON only or JSON header + binary outputs. */
export function decodeBinaryResponse(body: Buffer, headerLength: number | undefined): InferenceResponse {
  const jsonPart = headerLength === undefined ? body : body.subarray(0, headerLength);
  let header: { outputs?: HeaderOutput[] } & Record<string, unknown>;
  try {
    header = JSON.parse(jsonPart.toString('utf8')) as typeof header;
  } catch (err) {
    throw new ClientError(
      `the response header is not JSON: ${(err as Error).message}`,
      'invalid_response',
      0,
    );
  }
  const all = header.outputs ?? [];
  const jsonOutputs = all.filter((o) => o.parameters?.binary_data_size === undefined);
  const decoded = decodeJsonOutputs({ ...header, outputs: jsonOutputs });
  const byName = new Map(decoded.outputs.map((o) => [o.name, o]));
  let offset = headerLength ?? body.length;
  const outputs = all.map((o): Tensor => {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) return byName.get(o.name)!;
    if (typeof size !== 'number' || offset + size > body.length || !isDatatype(o.datatype)) {
      throw new ClientError(`output '${o.name}': bad binary_data_size or datatype`, 'invalid_response', 0);
    }
    const data = rawToData(o.datatype, o.shape, body.subarray(offset, offset + size), o.name);
    offset += size;
    return { name: o.name, datatype: o.datatype, shape: o.shape, data };
  });
  return { ...decoded, outputs };
}

export class RestBinaryClient extends RestJsonClient {
  override readonly transport: InferClient['transport'] = 'rest-binary';

  override async infer(request: ClientRequest, options?: CallOptions): Promise<InferenceResponse> {
    const { body, headerLength } = encodeBinaryRequest(request);
    const res = await fetch(`${this.baseUrl}${modelPath(request.modelName, request.modelVersion)}/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(headerLength),
        ...options?.headers,
      },
      body,
      signal: signalFor(options),
    });
    if (!res.ok) throw await errorFrom(res);
    const given = res.headers.get('inference-header-content-length');
    return decodeBinaryResponse(
      Buffer.from(await res.arrayBuffer()),
      given === null ? undefined : Number(given),
    );
  }
}
