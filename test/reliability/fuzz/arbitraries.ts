/**
 * fast-check arbitraries for hostile infer requests: mostly "almost valid" requests for the fuzz
 * server's models (the decoders' deep paths are reached only by bodies that pass the first checks),
 * with every field sometimes replaced by anything, plus raw mutations of the encoded bytes.
 */
import fc from 'fast-check';
import { DATATYPES } from '../../../src/core/tensor.js';
import { IDENTITY_TYPES } from '../../fixtures/repository.js';

/** The fuzz repository's models: input and output names (names not in it are fuzzed too). */
export const MODELS: Record<string, { inputs: string[]; outputs: string[] }> = {
  add: { inputs: ['a', 'b'], outputs: ['sum', 'diff'] },
  add_noconfig: { inputs: ['a', 'b'], outputs: ['sum', 'diff'] },
  upper: { inputs: ['text'], outputs: ['upper'] },
  spam: { inputs: ['text'], outputs: ['probability', 'label'] },
  ocr_echo: { inputs: ['image'], outputs: ['result'] },
  identity: { inputs: ['in_FP32', 'in_INT64', 'in_BYTES', 'in_BOOL'], outputs: ['out_FP32', 'out_BYTES'] },
};

const modelNames = Object.keys(MODELS);

export const modelName: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...modelNames) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('no_such_model', 'add/versions/1', '..', '%2e%2e', 'ADD') },
);

const version = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('1', '2', '0', 'production', 'canary', '-1', '99999999999999999999'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** A dimension: usually small, sometimes hostile. */
const dim = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 4 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      -1,
      2 ** 31,
      2 ** 32 + 1,
      2 ** 53,
      1e300,
      1.5,
      Number.MAX_SAFE_INTEGER,
      2 ** 24,
    ),
  },
);

const shape = fc.array(dim, { minLength: 0, maxLength: 4 });

const datatype = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...DATATYPES) },
  { weight: 1, arbitrary: fc.constantFrom('STRING', 'fp32', 'FLOAT', 'TYPE_FP32', '', 'BYTES ') },
);

/** One element of a datatype, including edge values. */
function element(dt: string): fc.Arbitrary<unknown> {
  switch (dt) {
    case 'BYTES':
      return fc.oneof(fc.string({ maxLength: 20 }), fc.base64String({ maxLength: 24 }), fc.constant('!!!'));
    case 'BOOL':
      return fc.oneof(fc.boolean(), fc.constantFrom(0, 1, 2, 'true', null));
    case 'FP16':
    case 'BF16':
    case 'FP32':
    case 'FP64':
      return fc.oneof(
        fc.double(),
        fc.constantFrom('NaN', 'Infinity', '-Infinity', 'nan', 'inf', -0, 1e308, 3.4e39, '1.5', null),
      );
    default:
      return fc.oneof(
        fc.integer(),
        fc.constantFrom(2 ** 53, -(2 ** 63), '18446744073709551615', '-1', 1.5, 256, 65536, '9'.repeat(30)),
      );
  }
}

/** `data` for a shape: the right count (flat or nested), or any JSON. */
function data(dt: string, dims: number[]): fc.Arbitrary<unknown> {
  const finite = dims.every((d) => Number.isInteger(d) && d >= 0);
  const count = finite ? dims.reduce((a, b) => a * b, 1) : -1;
  const right =
    count >= 0 && count <= 64
      ? fc.array(element(dt), { minLength: count, maxLength: count }).map((flat) => nest(flat, dims))
      : fc.array(element(dt), { maxLength: 8 });
  return fc.oneof(
    { weight: 6, arbitrary: right },
    { weight: 1, arbitrary: fc.array(element(dt), { maxLength: 10 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  );
}

/** Row-major nesting of a flat array (the protocol accepts both). */
function nest(flat: unknown[], dims: number[]): unknown {
  if (dims.length <= 1 || flat.length === 0) return flat;
  const inner = dims.slice(1).reduce((a, b) => a * b, 1);
  if (inner === 0) return flat;
  const rows: unknown[] = [];
  for (let i = 0; i < flat.length; i += inner) rows.push(nest(flat.slice(i, i + inner), dims.slice(1)));
  return rows;
}

const parameterValue = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 12 }),
  fc.constantFrom(3e12, -1, 2 ** 31, 1e308, 'base64', 'str'),
  fc.jsonValue({ maxDepth: 2 }),
);

const parameters = fc.option(
  fc.dictionary(
    fc.oneof(
      fc.constantFrom(
        'timeout',
        'priority',
        'binary_data_output',
        'binary_data',
        'content_type',
        'sequence_id',
      ),
      fc.string({ maxLength: 10 }),
    ),
    parameterValue,
    { maxKeys: 3 },
  ),
  { nil: undefined },
);

interface TensorSpecJson {
  name: unknown;
  datatype: unknown;
  shape: unknown;
  parameters?: unknown;
  data?: unknown;
}

/** One input with a name of the model (usually), a datatype, a shape and matching data. */
function input(model: string): fc.Arbitrary<TensorSpecJson> {
  const names = MODELS[model]?.inputs ?? ['x'];
  return fc
    .record({
      name: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...names) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
      ),
      datatype,
      shape,
      parameters,
    })
    .chain((head) =>
      data(typeof head.datatype === 'string' ? head.datatype : 'FP32', head.shape).map((d) => ({
        ...head,
        data: d,
      })),
    );
}

export interface JsonRequest {
  model: string;
  version: string | undefined;
  body: Record<string, unknown>;
}

/** Anything in every field: reaches the envelope checks. */
const wildRequest: fc.Arbitrary<JsonRequest> = fc
  .record({ model: modelName, version })
  .chain(({ model, version: v }) =>
    fc
      .record(
        {
          id: fc.oneof(fc.string({ maxLength: 16 }), fc.integer(), fc.constant(null)),
          inputs: fc.oneof(
            { weight: 10, arbitrary: fc.array(input(model), { minLength: 0, maxLength: 4 }) },
            { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
          ),
          outputs: fc.array(
            fc.record({
              name: fc.oneof(
                fc.constantFrom(...(MODELS[model]?.outputs ?? ['y'])),
                fc.string({ maxLength: 8 }),
              ),
              parameters,
            }),
            { maxLength: 3 },
          ),
          parameters,
        },
        { requiredKeys: ['inputs'] },
      )
      .map((body) => ({ model, version: v, body: body as Record<string, unknown> })),
  );

/** The identity fixture's inputs, one per datatype it has (test/fixtures/repository.ts). */
const IDENTITY_DATATYPES = Object.keys(IDENTITY_TYPES);

/** Valid element values (these requests should succeed before they are mutated). */
function validElement(dt: string): fc.Arbitrary<unknown> {
  switch (dt) {
    case 'BYTES':
      return fc.string({ maxLength: 24 });
    case 'BOOL':
      return fc.boolean();
    case 'FP16':
    case 'FP32':
    case 'FP64':
      return fc.double({ noNaN: true, min: -1e4, max: 1e4 });
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
    case 'UINT64':
      return fc.integer({ min: 0, max: 255 });
    default:
      return fc.integer({ min: -128, max: 127 });
  }
}

const validTensor = (name: string, dt: string, dims: number[]): fc.Arbitrary<Record<string, unknown>> => {
  const n = dims.reduce((a, b) => a * b, 1);
  return fc
    .array(validElement(dt), { minLength: n, maxLength: n })
    .map((data) => ({ name, datatype: dt, shape: dims, data }));
};

/** A request each fixture model answers with 200. */
function validRequest(model: string): fc.Arbitrary<Record<string, unknown>> {
  const rows = fc.integer({ min: 1, max: 3 });
  switch (model) {
    case 'add':
    case 'add_noconfig':
      return rows.chain((n) =>
        fc
          .tuple(validTensor('a', 'FP32', [n, 4]), validTensor('b', 'FP32', [n, 4]))
          .map((inputs) => ({ inputs })),
      );
    case 'upper':
    case 'spam':
      return rows.chain((n) => validTensor('text', 'BYTES', [n]).map((t) => ({ inputs: [t] })));
    case 'ocr_echo':
      return validTensor('image', 'BYTES', [1]).map((t) => ({ inputs: [t] }));
    default:
      return fc
        .tuple(...IDENTITY_DATATYPES.map((dt) => validTensor(`in_${dt}`, dt, [1, 2])))
        .map((inputs) => ({ inputs, outputs: [{ name: 'out_FP32' }, { name: 'out_BYTES' }] }));
  }
}

type Mutator = (body: Record<string, unknown>) => void;

/** The i-th input (modulo) when `inputs` is an array of objects. */
function pickInput(b: Record<string, unknown>, i: number): Record<string, unknown> | undefined {
  const inputs = b.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) return undefined;
  const t: unknown = inputs[i % inputs.length];
  return typeof t === 'object' && t !== null && !Array.isArray(t)
    ? (t as Record<string, unknown>)
    : undefined;
}

/** One change to a valid request: a field replaced, removed, duplicated or made hostile. */
const fieldMutation: fc.Arbitrary<Mutator> = fc.oneof(
  fc
    .record({ k: fc.constantFrom('id', 'inputs', 'outputs', 'parameters'), v: fc.jsonValue({ maxDepth: 3 }) })
    .map(({ k, v }) => (b: Record<string, unknown>) => {
      b[k] = v;
    }),
  fc
    .record({
      i: fc.nat(),
      k: fc.constantFrom('name', 'shape', 'datatype', 'data', 'parameters'),
      v: fc.oneof(fc.jsonValue({ maxDepth: 3 }), shape, datatype, parameters, fc.constant(undefined)),
    })
    .map(({ i, k, v }) => (b: Record<string, unknown>) => {
      const t = pickInput(b, i);
      if (!t) return;
      if (v === undefined) delete t[k];
      else t[k] = v;
    }),
  fc.nat().map((i) => (b: Record<string, unknown>) => {
    const inputs = b.inputs as unknown[];
    if (Array.isArray(inputs) && inputs.length > 0) inputs.push(structuredClone(inputs[i % inputs.length]));
  }),
  fc
    .record({ i: fc.nat(), depth: fc.integer({ min: 2, max: 200 }) })
    .map(({ i, depth }) => (b: Record<string, unknown>) => {
      const t = pickInput(b, i);
      if (!t) return;
      let d: unknown = t.data;
      for (let k = 0; k < depth; k++) d = [d];
      t.data = d;
    }),
  fc
    .record({ i: fc.nat(), ct: fc.constantFrom('base64', 'str', 'utf8', '') })
    .map(({ i, ct }) => (b: Record<string, unknown>) => {
      const t = pickInput(b, i);
      if (t) t.parameters = { content_type: ct };
    }),
  parameters.map((p) => (b: Record<string, unknown>) => {
    b.parameters = p;
  }),
  fc
    .record({ name: fc.string({ maxLength: 10 }), binary: fc.boolean() })
    .map(({ name, binary }) => (b: Record<string, unknown>) => {
      b.outputs = [{ name, parameters: { binary_data: binary } }];
    }),
);

/** Mostly valid requests with a few fields changed; sometimes anything. */
export const jsonRequest: fc.Arbitrary<JsonRequest> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ model: fc.constantFrom(...modelNames), version }).chain(({ model, version: v }) =>
      fc
        .record({ body: validRequest(model), muts: fc.array(fieldMutation, { maxLength: 2 }) })
        .map(({ body, muts }) => {
          // A copy: fast-check reuses generated values while shrinking.
          const copy = structuredClone(body);
          for (const m of muts) m(copy);
          return { model, version: v, body: copy };
        }),
    ),
  },
  { weight: 1, arbitrary: wildRequest },
);

/** Byte-level mutations: flip, cut, insert, duplicate (applied to an encoded body). */
const mutation: fc.Arbitrary<(b: Buffer) => Buffer> = fc.oneof(
  fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }).map(({ at, byte }) => (b: Buffer) => {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[at % c.length] = byte;
    return c;
  }),
  fc.nat().map((at) => (b: Buffer) => b.subarray(0, b.length === 0 ? 0 : at % b.length)),
  fc
    .record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) })
    .map(({ at, bytes }) => (b: Buffer) => {
      const i = b.length === 0 ? 0 : at % b.length;
      return Buffer.concat([b.subarray(0, i), Buffer.from(bytes), b.subarray(i)]);
    }),
  fc.record({ at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }).map(({ at, len }) => (b: Buffer) => {
    if (b.length === 0) return b;
    const i = at % b.length;
    return Buffer.concat([b.subarray(0, i + len), b.subarray(i)]);
  }),
);

export const mutations = fc.array(mutation, { maxLength: 3 });

/** Header values a client might send (printable ASCII only: the HTTP framing stays valid). */
const headerText = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));

export const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
      'image/png',
      'application/json; charset=utf-16',
      'application/vnd.api+json',
      '*/*',
    ),
  },
  { weight: 1, arbitrary: headerText },
);

export const extraHeaders: fc.Arbitrary<Array<[string, string]>> = fc.array(
  fc.tuple(
    // Not `expect`: Node answers an unknown expectation with a bodiless 417 before any route runs.
    fc.constantFrom('x-request-id', 'accept', 'content-encoding', 'x-forwarded-for', 'priority', 'timeout'),
    headerText,
  ),
  { maxLength: 3 },
);

/** A tensor's raw bytes: the right size for its datatype and shape, or not. */
export const rawPayload = (size: number): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ minLength: size, maxLength: size }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  );

/** BYTES elements in the raw encoding, with lengths that sometimes lie. */
export const rawBytesElements: fc.Arbitrary<Buffer> = fc
  .array(
    fc.record({
      bytes: fc.uint8Array({ maxLength: 12 }),
      lie: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom(0xffffffff, 2 ** 31, 1000) },
      ),
    }),
    { maxLength: 6 },
  )
  .map((items) =>
    Buffer.concat(
      items.map(({ bytes, lie }) => {
        const len = Buffer.alloc(4);
        len.writeUInt32LE(lie ?? bytes.length);
        return Buffer.concat([len, Buffer.from(bytes)]);
      }),
    ),
  );
