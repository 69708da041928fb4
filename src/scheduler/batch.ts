/**
 * Concatenation of requests along the batch dimension (dim 0) and the split of results back.
 * Requests are only batched together when every non-batch dim and datatype agree (`batchKey`).
 */
import { BytesData, TYPED_ARRAY, type NumericData, type Tensor, type TensorData } from '../core/tensor.js';
import { InferdError } from '../errors.js';

/** Requests with the same key can share one execution. */
export function batchKey(inputs: readonly Tensor[], outputNames: readonly string[] | undefined): string {
  let key = outputNames ? outputNames.join(',') : '*';
  for (const t of inputs) key += `|${t.name}:${t.datatype}:${t.shape.slice(1).join('x')}`;
  return key;
}

/** Size of dim 0 (all inputs of a batched request agree; validated before enqueue). */
export function batchSize(inputs: readonly Tensor[]): number {
  return inputs[0]?.shape[0] ?? 1;
}

function concatData(parts: TensorData[], datatype: Tensor['datatype']): TensorData {
  if (datatype === 'BYTES') return BytesData.concat(parts as BytesData[]);
  const Ctor = TYPED_ARRAY[datatype];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Ctor(total);
  let offset = 0;
  for (const p of parts) {
    (out as Float32Array).set(p as Float32Array, offset);
    offset += p.length;
  }
  return out;
}

/** Inputs of several requests (same batchKey, same input order) → one batch. */
export function concatInputs(requests: readonly (readonly Tensor[])[]): Tensor[] {
  if (requests.length === 1) return [...requests[0]!];
  const first = requests[0]!;
  return first.map((t, i) => {
    const parts = requests.map((r) => r[i]!);
    const rows = parts.reduce((n, p) => n + (p.shape[0] ?? 0), 0);
    return {
      name: t.name,
      datatype: t.datatype,
      shape: [rows, ...t.shape.slice(1)],
      data: concatData(
        parts.map((p) => p.data),
        t.datatype,
      ),
    };
  });
}

function sliceRows(t: Tensor, start: number, rows: number, total: number): Tensor {
  const per = total === 0 ? 0 : t.data.length / total;
  const from = start * per;
  const to = (start + rows) * per;
  const data: TensorData =
    t.data instanceof BytesData ? t.data.slice(from, to) : (t.data as NumericData).subarray(from, to);
  return { name: t.name, datatype: t.datatype, shape: [rows, ...t.shape.slice(1)], data };
}

/** Splits a batch's outputs back into per-request outputs, in request order. */
export function splitOutputs(outputs: readonly Tensor[], sizes: readonly number[]): Tensor[][] {
  if (sizes.length === 1) return [[...outputs]];
  const total = sizes.reduce((a, b) => a + b, 0);
  for (const o of outputs) {
    if (o.shape[0] !== total) {
      throw new InferdError(
        'backend_error',
        `output '${o.name}' has ${o.shape[0] ?? 'no'} rows for a batch of ${total}: the model does not keep the batch dimension`,
      );
    }
  }
  const result: Tensor[][] = [];
  let start = 0;
  for (const rows of sizes) {
    result.push(outputs.map((o) => sliceRows(o, start, rows, total)));
    start += rows;
  }
  return result;
}
