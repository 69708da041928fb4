/** Open Inference Protocol v2 client over REST with JSON tensors (fetch, no dependencies). */
import type { InferenceResponse } from '../core/tensor.js';
import { decodeJsonOutputs } from './json-response.js';
import { encodeJsonInput } from './json-request.js';
import type { ModelMetadata, ServerMetadata } from '../core/model.js';
import { ClientError, type CallOptions, type ClientRequest, type InferClient } from './types.js';

export function modelPath(name: string, version?: string): string {
  const m = `/v2/models/${encodeURIComponent(name)}`;
  return version === undefined ? m : `${m}/versions/${encodeURIComponent(version)}`;
}

export async function errorFrom(res: Response): Promise<ClientError> {
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  return errorFromBody(res.status, await res.text(), headers, res.statusText);
}

/** The error of a non-2xx answer: code and message from our JSON error body, else the raw text. */
export function errorFromBody(
  status: number,
  text: string,
  headers: Record<string, string>,
  statusText = '',
): ClientError {
  let message = text || statusText;
  let code = 'unknown';
  try {
    const body = JSON.parse(text) as { error?: string; code?: string };
    if (body.error) message = body.error;
    if (body.code) code = body.code;
  } catch {
    // not JSON: keep the raw text
  }
  return new ClientError(message, code, status, headers);
}

export function signalFor(options?: CallOptions): AbortSignal | undefined {
  const signals = [
    options?.signal,
    options?.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
  ].filter((s): s is AbortSignal => s !== undefined);
  if (signals.length === 0) return undefined;
  return signals.length === 1 ? signals[0] : AbortSignal.any(signals);
}

export class RestJsonClient implements InferClient {
  readonly transport: InferClient['transport'] = 'rest-json';

  constructor(readonly baseUrl: string) {}

  protected async get(path: string): Promise<Response> {
    return fetch(this.baseUrl + path);
  }

  protected async getJson<T>(path: string): Promise<T> {
    const res = await this.get(path);
    if (!res.ok) throw await errorFrom(res);
    return (await res.json()) as T;
  }

  async serverLive(): Promise<boolean> {
    return (await this.get('/v2/health/live')).ok;
  }

  async serverReady(): Promise<boolean> {
    return (await this.get('/v2/health/ready')).ok;
  }

  serverMetadata(): Promise<ServerMetadata> {
    return this.getJson('/v2');
  }

  modelMetadata(name: string, version?: string): Promise<ModelMetadata> {
    return this.getJson(modelPath(name, version));
  }

  async modelReady(name: string, version?: string): Promise<boolean> {
    const res = await this.get(`${modelPath(name, version)}/ready`);
    if (res.status === 404) throw await errorFrom(res);
    return res.ok;
  }

  async infer(request: ClientRequest, options?: CallOptions): Promise<InferenceResponse> {
    const body: Record<string, unknown> = { inputs: request.inputs.map(encodeJsonInput) };
    if (request.id !== undefined) body.id = request.id;
    if (request.parameters) body.parameters = request.parameters;
    if (request.outputs) body.outputs = request.outputs;
    const res = await fetch(`${this.baseUrl}${modelPath(request.modelName, request.modelVersion)}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options?.headers },
      body: JSON.stringify(body),
      signal: signalFor(options),
    });
    if (!res.ok) throw await errorFrom(res);
    return decodeJsonOutputs(await res.json());
  }

  async close(): Promise<void> {}
}
