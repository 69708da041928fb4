/**
 * Triton's classification extension (server docs/protocol/extension_classification.md): a requested
 * output with the parameter `classification: k` (tritonclient's `InferRequestedOutput(name,
 * class_count=k)`) is answered as a BYTES tensor of the k highest elements per batch row, each
 * "<value>:<index>[:<label>]", instead of the tensor itself. As Triton's classification.cc and
 * http_server.cc: the value printed as C++ std::to_string prints it (floats with 6 decimals),
 * the index within the batch row, the label from the output's label file when the model has one;
 * shape [batch, min(k, row elements)] for a model with max_batch_size > 0, else [min(k, elements)].
 * Transport-independent: REST JSON, REST binary and gRPC encode the BYTES tensor as any other.
 */
import { clip } from '../core/clip.js';
import { BytesData, elementCount, type Datatype, type Tensor } from '../core/tensor.js';
import { InferdError } from '../errors.js';

/** Triton's bound (kMaxClassificationElements): more elements per batch row are refused. */
const MAX_CLASSIFICATION_ELEMENTS = 1_000_000;

/** Datatypes Triton classifies (the others have no ordering it implements: FP16, BF16, BOOL, BYTES). */
const CLASSIFIABLE = new Set<Datatype>([
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP32',
  'FP64',
]);

/** The requested class count of each output that asks for one (0 = not requested). */
export function classCounts(
  outputs: ReadonlyArray<{ name: string; parameters?: Record<string, unknown> }> | undefined,
): Map<string, number> | undefined {
  let counts: Map<string, number> | undefined;
  for (const o of outputs ?? []) {
    const k = o.parameters?.classification;
    if (k === undefined) continue;
    if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 0) {
      throw new InferdError(
        'invalid_request',
        `output '${clip(o.name)}': parameter 'classification' must be a non-negative integer (the number of classes to return), not ${clip(JSON.stringify(k))}`,
      );
    }
    if (k > 0) (counts ??= new Map()).set(o.name, k);
  }
  return counts;
}

/** C++ std::to_string of the element (floats as "%f"). */
function formatValue(v: number | bigint, float: boolean): string {
  if (typeof v === 'bigint' || !float) return String(v);
  if (Number.isNaN(v)) return v < 0 ? '-nan' : 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return v.toFixed(6);
}

/** Indices of the k highest elements of data[from, from + n), highest first; ties by index. */
function topK(data: ArrayLike<number | bigint>, from: number, n: number, k: number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const x = data[from + a]!;
    const y = data[from + b]!;
    if (x === y) return a - b;
    // NaN sorts last (no ordering).
    if (typeof x === 'number' && Number.isNaN(x)) return 1;
    if (typeof y === 'number' && Number.isNaN(y)) return -1;
    return x > y ? -1 : 1;
  });
  return idx.slice(0, k);
}

/** The output as Triton's classification tensor (see above). */
export function classify(
  output: Tensor,
  k: number,
  batched: boolean,
  labels: readonly string[] | undefined,
): Tensor {
  if (!CLASSIFIABLE.has(output.datatype)) {
    throw new InferdError(
      'invalid_request',
      `class result not available for output due to unsupported type '${output.datatype}' (output '${clip(output.name)}')`,
    );
  }
  const data = output.data as ArrayLike<number | bigint>;
  const batch = batched && output.shape.length > 0 ? output.shape[0]! : 0;
  const rowElements = elementCount(batch > 0 ? output.shape.slice(1) : output.shape);
  if (rowElements > MAX_CLASSIFICATION_ELEMENTS) {
    throw new InferdError(
      'invalid_request',
      `classification output tensor too large: output '${clip(output.name)}' has ${rowElements} elements per batch row, at most ${MAX_CLASSIFICATION_ELEMENTS}`,
    );
  }
  const count = Math.min(k, rowElements);
  const float = output.datatype === 'FP32' || output.datatype === 'FP64';
  const strings: string[] = [];
  for (let row = 0; row < Math.max(1, batch); row++) {
    const from = row * rowElements;
    for (const i of topK(data, from, rowElements, count)) {
      const label = labels?.[i];
      const s = `${formatValue(data[from + i]!, float)}:${i}`;
      strings.push(label === undefined ? s : `${s}:${label}`);
    }
  }
  return {
    name: output.name,
    datatype: 'BYTES',
    shape: batch > 0 ? [batch, count] : [count],
    data: BytesData.fromStrings(strings),
  };
}
