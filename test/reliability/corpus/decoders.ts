/**
 * Findings 1 (memory bombs through BYTES) and 7 (deeply nested JSON): the decoders must check
 * counts, sizes and depth before allocating or recursing, and answer 400/413 with a code at once,
 * while the server stays live. The bodies (40–66 MB) are generated here at run time.
 */
import { addRequest, json, Tally, type CorpusCase } from './case.js';

/** A JSON infer body for `upper` whose BYTES input holds `n` empty strings (3 bytes each). */
function jsonBytesBomb(n: number): Buffer {
  const head = Buffer.from(`{"inputs":[{"name":"text","shape":[${n}],"datatype":"BYTES","data":[`);
  const items = Buffer.alloc(3 * n - 1, '"",');
  return Buffer.concat([head, items, Buffer.from(']}]}')]);
}

/** Protobuf varint. */
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

const field = (tag: number, payload: Buffer): Buffer =>
  Buffer.concat([Buffer.from([(tag << 3) | 2]), varint(payload.length), payload]);

/**
 * A ModelInferRequest for `model` whose BYTES input holds `n` empty `bytes_contents` (2 bytes each
 * on the wire), encoded by hand: building 21 million objects in the client would itself take
 * gigabytes.
 */
function grpcBytesBomb(model: string, n: number): Buffer {
  const contents = Buffer.alloc(2 * n, Buffer.from([(8 << 3) | 2, 0])); // bytes_contents = 8, empty
  const tensor = Buffer.concat([
    field(1, Buffer.from('text')),
    field(2, Buffer.from('BYTES')),
    field(3, varint(n)), // packed int64 shape [n]
    field(5, contents),
  ]);
  return Buffer.concat([field(1, Buffer.from(model)), field(5, tensor)]);
}

/** A binary-extension body for `upper`: `n` BYTES elements of length 0 (4 zero bytes each). */
function binaryBytesBomb(n: number): { body: Buffer; headerLength: number } {
  const header = Buffer.from(
    json({
      inputs: [{ name: 'text', shape: [n], datatype: 'BYTES', parameters: { binary_data_size: 4 * n } }],
    }),
  );
  return { body: Buffer.concat([header, Buffer.alloc(4 * n)]), headerLength: header.length };
}

/** `data` nested `depth` deep around one number. */
function nested(depth: number): string {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

const REFUSED = [400, 404, 413];

export const DECODER_CASES: CorpusCase[] = [
  {
    id: 'f1-rest-json-bytes',
    finding: '1',
    title: 'REST JSON, 63 MB: 21,000,000 empty BYTES strings for `upper` → 400/413 with a code, at once',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/v2/models/upper/infer', {
        body: jsonBytesBomb(21_000_000),
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, REFUSED);
      return t;
    },
  },
  {
    id: 'f1-rest-json-bytes-unknown-model',
    finding: '1',
    title: 'The same 63 MB body for a model that does not exist → 4xx with a code, at once',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/v2/models/no_such_model/infer', {
        body: jsonBytesBomb(21_000_000),
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, REFUSED);
      return t;
    },
  },
  {
    id: 'f1-grpc-bytes',
    finding: '1',
    title:
      'gRPC ModelInfer, 42 MB: 21,000,000 empty bytes_contents for `upper` → INVALID_ARGUMENT/RESOURCE_EXHAUSTED with a code',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.grpc(await ctx.grpcRaw('ModelInfer', grpcBytesBomb('upper', 21_000_000)), [3, 5, 8]);
      return t;
    },
  },
  {
    id: 'f1-grpc-bytes-unknown-model',
    finding: '1',
    title:
      'The same gRPC message for a model that does not exist → NOT_FOUND/INVALID_ARGUMENT/RESOURCE_EXHAUSTED',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.grpc(await ctx.grpcRaw('ModelInfer', grpcBytesBomb('no_such_model', 21_000_000)), [3, 5, 8]);
      return t;
    },
  },
  {
    id: 'f1-binary-bytes-zeros',
    finding: '1',
    title:
      'REST binary extension, 66 MB of zeros = 16,500,000 zero-length BYTES elements → 400/413 with a code',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const { body, headerLength } = binaryBytesBomb(16_500_000);
      const r = await ctx.http('POST', '/v2/models/upper/infer', {
        body,
        headers: { 'inference-header-content-length': String(headerLength) },
      });
      t.http(r, REFUSED);
      return t;
    },
  },
  {
    id: 'f7-deep-json',
    finding: '7',
    title:
      'REST JSON `data` nested 10,000 deep (60 KB) → 400 invalid_input (not 500 "Maximum call stack size exceeded")',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const body = json(addRequest()).replace('[1,2,3,4]', nested(10_000));
      const r = await ctx.http('POST', '/v2/models/add/infer', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, [400], ['invalid_input', 'invalid_request', 'invalid_json']);
      return t;
    },
  },
  {
    id: 'f7-deep-json-binary-header',
    finding: '7',
    title: 'The same nesting inside the JSON header of a binary-extension request → 400',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const header = Buffer.from(json(addRequest()).replace('[1,2,3,4]', nested(10_000)));
      const r = await ctx.http('POST', '/v2/models/add/infer', {
        body: header,
        headers: { 'inference-header-content-length': String(header.length) },
      });
      t.http(r, [400], ['invalid_input', 'invalid_request', 'invalid_json']);
      return t;
    },
  },
  {
    id: 'f7-deep-json-v1',
    finding: '7',
    title: '/v1 predict with `text` nested 10,000 deep → 400',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/v1/models/spam/predict', {
        body: `{"text":${nested(10_000)}}`,
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, [400], ['invalid_input', 'invalid_request', 'invalid_json']);
      return t;
    },
  },
];
