/** JSON infer responses → internal responses (the client side of the REST JSON encoding). */
import { elementCount, isDatatype, type InferenceResponse, type Tensor } from '../core/tensor.js';
import { flattenData } from '../protocol/json-data.js';
import { valuesToData } from '../protocol/tensor-values.js';
import { ClientError } from './types.js';

interface JsonResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: InferenceResponse['parameters'];
  outputs: Array<{
    name: string;
    datatype: string;
    shape: number[];
    parameters?: Record<string, unknown>;
    data: unknown[];
  }>;
}

export function decodeJsonOutputs(body: unknown): InferenceResponse {
  const b = body as JsonResponse;
  if (!b || !Array.isArray(b.outputs))
    throw new ClientError('the server sent no outputs', 'invalid_response', 0);
  const outputs: Tensor[] = b.outputs.map((o) => {
    if (!isDatatype(o.datatype))
      throw new ClientError(`unknown datatype ${o.datatype}`, 'invalid_response', 0);
    const values = flattenData(o.data, o.shape, elementCount(o.shape), o.name);
    // inferd writes non-finite floats as "NaN"/"Infinity" strings (valuesToData reads them);
    // other servers write null.
    const clean =
      o.datatype.startsWith('FP') || o.datatype === 'BF16'
        ? values.map((v) => (v === null ? NaN : v))
        : values;
    return {
      name: o.name,
      datatype: o.datatype,
      shape: o.shape,
      // BYTES that are not UTF-8 come base64 (content_type), like inputs may go.
      data: valuesToData(o.datatype, clean, o.name, o.parameters?.content_type === 'base64'),
    };
  });
  const res: InferenceResponse = { modelName: b.model_name, modelVersion: b.model_version ?? '', outputs };
  if (b.id !== undefined) res.id = b.id;
  if (b.parameters) res.parameters = b.parameters;
  return res;
}
