/**
 * The server's own decoding of ModelInferRequest contents (request-scan.ts, contents-decode.ts)
 * against protobufjs: every typed field, packed (what protobufjs writes) and unpacked (what other
 * encoders may write; parsers must accept both), with edge values.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BytesData } from '../../src/core/tensor.js';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';
import { inferRequestDeserializer, refusalOf } from '../../src/protocol/grpc/request-deserializer.js';
import type { WireInferRequest } from '../../src/protocol/grpc/wire-types.js';
import { serverAdmission } from '../../src/service/admission.js';
import type { InferenceService } from '../../src/service/inference-service.js';

const method = loadProtos().inference.service.ModelInfer!;
const serialize = (w: unknown): Buffer => method.requestSerialize(w) as Buffer;
const original = method.requestDeserialize as (b: Buffer) => WireInferRequest;
const service = {
  maxRequestElements: 1e9,
  // Only the bound: these cases check decoding, not a model's shapes.
  admit: () => ({ admission: serverAdmission(1e9) }),
} as unknown as InferenceService;
const deserialize = inferRequestDeserializer(original, service);

interface Values {
  bool: boolean[];
  int: number[];
  int64: bigint[];
  uint: number[];
  uint64: bigint[];
  fp32: number[];
  fp64: number[];
  bytes: Uint8Array[];
}

const values: fc.Arbitrary<Values> = fc.record({
  bool: fc.array(fc.boolean()),
  int: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  int64: fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  uint: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  uint64: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  fp32: fc.array(fc.float({ noNaN: true })),
  fp64: fc.array(fc.double({ noNaN: true })),
  bytes: fc.array(fc.uint8Array({ maxLength: 20 })),
});

function request(v: Values): unknown {
  return {
    model_name: 'm',
    inputs: [
      {
        name: 'x',
        datatype: 'BYTES',
        shape: [1],
        contents: {
          bool_contents: v.bool,
          int_contents: v.int,
          int64_contents: v.int64.map(String),
          uint_contents: v.uint,
          uint64_contents: v.uint64.map(String),
          fp32_contents: v.fp32,
          fp64_contents: v.fp64,
          bytes_contents: v.bytes.map((b) => Buffer.from(b)),
        },
      },
    ],
  };
}

// Unpacked encoding by hand: one tag per element.
function varint(n: bigint): number[] {
  let x = BigInt.asUintN(64, n);
  const out: number[] = [];
  while (x > 127n) {
    out.push(Number(x & 127n) | 128);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}
function unpackedContents(v: Values): Buffer {
  const out: number[] = [];
  const tag = (field: number, wt: number) => out.push(...varint(BigInt((field << 3) | wt)));
  for (const b of v.bool) {
    tag(1, 0);
    out.push(b ? 1 : 0);
  }
  for (const x of v.int) {
    tag(2, 0);
    out.push(...varint(BigInt(x)));
  }
  for (const x of v.int64) {
    tag(3, 0);
    out.push(...varint(x));
  }
  for (const x of v.uint) {
    tag(4, 0);
    out.push(...varint(BigInt(x)));
  }
  for (const x of v.uint64) {
    tag(5, 0);
    out.push(...varint(x));
  }
  for (const x of v.fp32) {
    tag(6, 5);
    out.push(...new Uint8Array(Float32Array.of(x).buffer));
  }
  for (const x of v.fp64) {
    tag(7, 1);
    out.push(...new Uint8Array(Float64Array.of(x).buffer));
  }
  for (const b of v.bytes) {
    tag(8, 2);
    out.push(...varint(BigInt(b.length)), ...b);
  }
  return Buffer.from(out);
}
function len(field: number, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(varint(BigInt((field << 3) | 2))),
    Buffer.from(varint(BigInt(payload.length))),
    payload,
  ]);
}
function unpackedRequest(v: Values): Buffer {
  const tensor = Buffer.concat([
    len(1, Buffer.from('x')),
    len(2, Buffer.from('BYTES')),
    len(5, unpackedContents(v)),
  ]);
  return Buffer.concat([len(1, Buffer.from('m')), len(5, tensor)]);
}

function check(wire: WireInferRequest, v: Values): void {
  assert.equal(refusalOf(wire), undefined, refusalOf(wire)?.message);
  const c = wire.inputs[0]!.contents as Record<string, unknown>;
  const list = (k: string): unknown[] => (c[k] === undefined ? [] : Array.from(c[k] as ArrayLike<unknown>));
  assert.deepEqual(list('bool_contents'), v.bool.map(Number));
  assert.deepEqual(list('int_contents'), v.int);
  assert.deepEqual(list('int64_contents'), v.int64);
  assert.deepEqual(list('uint_contents'), v.uint);
  assert.deepEqual(list('uint64_contents'), v.uint64);
  assert.deepEqual(list('fp32_contents'), v.fp32);
  assert.deepEqual(list('fp64_contents'), v.fp64);
  const bytes = c.bytes_contents as BytesData | undefined;
  assert.deepEqual(
    bytes ? bytes.toArrays().map((b) => [...b]) : [],
    v.bytes.map((b) => [...b]),
  );
  assert.equal(wire.model_name, 'm');
  assert.equal(wire.inputs[0]!.name, 'x');
}

describe('gRPC ModelInferRequest contents decoded by the server', () => {
  it('packed contents (protobufjs) decode to the same values, in typed storage', () => {
    fc.assert(
      fc.property(values, (v) => check(deserialize(serialize(request(v))), v)),
      { numRuns: 200 },
    );
  });

  it('unpacked contents decode to the same values', () => {
    fc.assert(
      fc.property(values, (v) => check(deserialize(unpackedRequest(v)), v)),
      { numRuns: 200 },
    );
  });

  it('the message bytes are as they were after decoding (the tags are swapped back)', () => {
    const buf = serialize(
      request({ bool: [true], int: [-1], int64: [], uint: [], uint64: [], fp32: [1.5], fp64: [], bytes: [] }),
    );
    const copy = Buffer.from(buf);
    deserialize(buf);
    assert.deepEqual(buf, copy);
  });

  it('malformed or hostile messages are refused with a catalogue error, never thrown', () => {
    const refused = (b: Buffer) => refusalOf(deserialize(b));
    // A group (wire type 3) inside an input, a truncated length, a packed float not a multiple of 4.
    assert.equal(
      refused(Buffer.concat([len(1, Buffer.from('m')), len(5, Buffer.from([0x1b, 0x1c]))]))?.code,
      'invalid_request',
    );
    assert.equal(refused(Buffer.from([0x0a, 0x05, 0x6d]))?.code, 'invalid_request');
    const badFloat = len(5, Buffer.concat([len(1, Buffer.from('x')), len(5, len(6, Buffer.alloc(3)))]));
    assert.equal(refused(Buffer.concat([len(1, Buffer.from('m')), badFloat]))?.code, 'invalid_request');
    // 70,000 empty inputs: more entries than the envelope allows, refused before protobufjs.
    const many = Buffer.concat([
      len(1, Buffer.from('m')),
      Buffer.from(new Array(70_000).fill([0x2a, 0x00]).flat()),
    ]);
    assert.equal(refused(many)?.code, 'too_many_elements');
    // And fuzzed bytes: a refusal or a request, never an exception.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void deserialize(Buffer.from(b))),
      { numRuns: 2000 },
    );
  });
});
