/** Tensor builders for protocol tests: deterministic, exactly representable values per datatype. */
import { toHalf } from '../../src/core/half.js';
import { BytesData, TYPED_ARRAY, type Datatype, type Tensor } from '../../src/core/tensor.js';

export function f32(name: string, shape: number[], values: number[]): Tensor {
  return { name, datatype: 'FP32', shape, data: Float32Array.from(values) };
}

export function bytes(name: string, values: string[], shape = [values.length]): Tensor {
  return {
    name,
    datatype: 'BYTES',
    shape,
    data: BytesData.fromArrays(values.map((s) => new TextEncoder().encode(s))),
  };
}

/** Values chosen to hit each type's edges while staying exact in JSON (|x| < 2^53). */
const SAMPLES: Record<Exclude<Datatype, 'BYTES' | 'FP16' | 'BF16'>, number[]> = {
  BOOL: [1, 0, 1, 1, 0, 0],
  UINT8: [0, 1, 127, 128, 254, 255],
  UINT16: [0, 1, 300, 40000, 65534, 65535],
  UINT32: [0, 1, 70000, 2 ** 31, 4294967294, 4294967295],
  UINT64: [0, 1, 2 ** 32, 2 ** 40, 2 ** 52, 2 ** 53 - 1],
  INT8: [-128, -1, 0, 1, 100, 127],
  INT16: [-32768, -1, 0, 1, 1000, 32767],
  INT32: [-2147483648, -1, 0, 1, 123456, 2147483647],
  INT64: [-(2 ** 53) + 1, -1, 0, 1, 2 ** 40, 2 ** 53 - 1],
  FP32: [-1.5, 0, 0.25, 3.5, 1e10, -65504],
  FP64: [-1.5, 0, 0.1, Math.PI, 1e300, -2.5e-300],
};

export function tensorFor(datatype: Datatype, name: string, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (datatype === 'BYTES') {
    const words = ['alpha', '', 'grüße', '日本', 'a b\nc', 'x'.repeat(300)];
    return bytes(
      name,
      Array.from({ length: n }, (_, i) => words[i % words.length]!),
      shape,
    );
  }
  if (datatype === 'FP16' || datatype === 'BF16') {
    const vals = [-2, -0.5, 0, 1, 1.5, 65504];
    return {
      name,
      datatype,
      shape,
      data: Uint16Array.from({ length: n }, (_, i) => toHalf(vals[i % vals.length]!)),
    };
  }
  const vals = SAMPLES[datatype];
  const Ctor = TYPED_ARRAY[datatype];
  const big = datatype === 'INT64' || datatype === 'UINT64';
  const data = new Ctor(n);
  for (let i = 0; i < n; i++)
    (data as Float64Array)[i] = (big ? BigInt(vals[i % vals.length]!) : vals[i % vals.length]!) as number;
  return { name, datatype, shape, data };
}
