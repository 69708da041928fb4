/**
 * fast-check arbitraries for gRPC: ModelInferRequest messages built as objects (typed `contents`
 * or `raw_input_contents`, with hostile shapes, counts and parameters), encoded with protobufjs from
 * the server's own proto, then sometimes mutated at the byte level; plus the read-only RPCs with
 * random or mutated requests. (The repository RPCs change state and are tested by the corpus.)
 */
import fc from 'fast-check';
import { DATATYPES } from '../../../src/core/tensor.js';
import { messageType } from '../lib/grpc.js';
import { MODELS, modelName, mutations } from './arbitraries.js';

const int64 = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 4 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '-1',
      '9223372036854775807',
      '-9223372036854775808',
      '4294967296',
      '2147483648',
      '16777216',
    ),
  },
);

const wireParameter = fc.oneof(
  fc.record({ bool_param: fc.boolean() }),
  fc.record({ int64_param: fc.oneof(int64, fc.constantFrom('3000000000000', '1')) }),
  fc.record({ string_param: fc.string({ maxLength: 16 }) }),
  fc.record({ double_param: fc.double() }),
  fc.record({ uint64_param: fc.constantFrom('0', '1', '18446744073709551615') }),
  fc.constant({}),
);

const wireParameters = fc.dictionary(
  fc.oneof(
    fc.constantFrom('timeout', 'priority', 'binary_data_output', 'content_type'),
    fc.string({ maxLength: 8 }),
  ),
  wireParameter,
  { maxKeys: 2 },
);

/** Typed contents for `datatype` with `count` elements (or any count). */
function contents(datatype: string, count: number): fc.Arbitrary<Record<string, unknown>> {
  const n = count >= 0 && count <= 64 ? { minLength: count, maxLength: count } : { maxLength: 8 };
  const pick: Record<string, fc.Arbitrary<unknown[]>> = {
    BOOL: fc.array(fc.boolean(), n),
    INT8: fc.array(fc.integer({ min: -200, max: 200 }), n),
    INT16: fc.array(fc.integer(), n),
    INT32: fc.array(fc.integer(), n),
    UINT8: fc.array(fc.integer({ min: 0, max: 300 }), n),
    UINT16: fc.array(fc.nat(), n),
    UINT32: fc.array(fc.nat(), n),
    INT64: fc.array(int64, n),
    UINT64: fc.array(
      int64.filter((s) => !s.startsWith('-')),
      n,
    ),
    FP32: fc.array(fc.float(), n),
    FP64: fc.array(fc.double(), n),
    BYTES: fc.array(fc.uint8Array({ maxLength: 12 }), n),
  };
  const field: Record<string, string> = {
    BOOL: 'bool_contents',
    INT8: 'int_contents',
    INT16: 'int_contents',
    INT32: 'int_contents',
    UINT8: 'uint_contents',
    UINT16: 'uint_contents',
    UINT32: 'uint_contents',
    INT64: 'int64_contents',
    UINT64: 'uint64_contents',
    FP32: 'fp32_contents',
    FP64: 'fp64_contents',
    BYTES: 'bytes_contents',
  };
  const right =
    pick[datatype] && field[datatype] ? pick[datatype].map((v) => ({ [field[datatype]!]: v })) : undefined;
  const any = fc.record(
    {
      fp32_contents: fc.array(fc.float(), { maxLength: 6 }),
      int_contents: fc.array(fc.integer(), { maxLength: 6 }),
      bytes_contents: fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 6 }),
      bool_contents: fc.array(fc.boolean(), { maxLength: 6 }),
    },
    { requiredKeys: [] },
  );
  return right ? fc.oneof({ weight: 5, arbitrary: right }, { weight: 1, arbitrary: any }) : any;
}

const ELEMENT_BYTES: Record<string, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  BF16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

interface WireInput {
  name: string;
  datatype: string;
  shape: string[];
  parameters: Record<string, unknown>;
  contents?: Record<string, unknown>;
}

function wireInput(model: string): fc.Arbitrary<{ tensor: WireInput; raw: Uint8Array }> {
  const names = MODELS[model]?.inputs ?? ['x'];
  return fc
    .record({
      name: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...names) },
        { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
      ),
      datatype: fc.oneof(
        { weight: 10, arbitrary: fc.constantFrom(...DATATYPES) },
        { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
      ),
      shape: fc.array(int64, { maxLength: 4 }),
      parameters: wireParameters,
    })
    .chain((head) => {
      const dims = head.shape.map(Number);
      const count = dims.every((d) => Number.isSafeInteger(d) && d >= 0)
        ? dims.reduce((a, b) => a * b, 1)
        : -1;
      const size = (ELEMENT_BYTES[head.datatype] ?? 4) * Math.max(0, Math.min(count, 256));
      return fc.record({
        tensor: contents(head.datatype, count).map((c) => ({ ...head, contents: c })),
        raw: fc.oneof(
          { weight: 4, arbitrary: fc.uint8Array({ minLength: size, maxLength: size }) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }) },
        ),
      });
    });
}

export interface GrpcInput {
  method: string;
  bytes: Buffer;
}

const inferRequest: fc.Arbitrary<Buffer> = modelName.chain((model) =>
  fc
    .record({
      model_version: fc.oneof(
        { weight: 5, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('1', '2', 'x', 'production') },
      ),
      id: fc.string({ maxLength: 8 }),
      parameters: wireParameters,
      inputs: fc.array(wireInput(model), { maxLength: 4 }),
      outputs: fc.array(
        fc.record({
          name: fc.oneof(fc.constantFrom(...(MODELS[model]?.outputs ?? ['y'])), fc.string({ maxLength: 6 })),
          parameters: wireParameters,
        }),
        { maxLength: 2 },
      ),
      raw: fc.boolean(),
    })
    .map((m) => {
      const type = messageType('ModelInferRequest');
      const obj = {
        model_name: model,
        model_version: m.model_version,
        id: m.id,
        parameters: m.parameters,
        inputs: m.inputs.map((i) => (m.raw ? { ...i.tensor, contents: undefined } : i.tensor)),
        outputs: m.outputs,
        raw_input_contents: m.raw ? m.inputs.map((i) => i.raw) : [],
      };
      return Buffer.from(type.encode(type.fromObject(obj)).finish());
    }),
);

const modelRef: fc.Arbitrary<Buffer> = fc
  .record({ name: modelName, version: fc.constantFrom('', '1', 'x') })
  .map((r) => {
    const type = messageType('ModelMetadataRequest');
    return Buffer.from(type.encode(type.fromObject(r)).finish());
  });

/** A gRPC call: mostly ModelInfer, sometimes a read-only RPC; bytes sometimes mutated or random. */
export const grpcInput: fc.Arbitrary<GrpcInput> = fc
  .oneof(
    { weight: 8, arbitrary: inferRequest.map((bytes) => ({ method: 'ModelInfer', bytes })) },
    {
      weight: 2,
      arbitrary: fc
        .record({
          method: fc.constantFrom('ModelMetadata', 'ModelReady', 'ModelConfig', 'ModelStatistics'),
          bytes: modelRef,
        })
        .map((r) => r),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 64 })
        .map((b) => ({ method: 'ModelInfer', bytes: Buffer.from(b) })),
    },
  )
  .chain((call) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(call) },
      {
        weight: 1,
        arbitrary: mutations.map((ms) => ({
          method: call.method,
          bytes: ms.reduce<Buffer>((b, m) => m(b), call.bytes),
        })),
      },
    ),
  );
