/**
 * Whole REST requests for the fuzzers (path, headers, body), for the JSON decoder and for Triton's
 * binary tensor extension (a JSON header, then raw tensors whose sizes and BYTES lengths may lie,
 * and raw binary requests with Inference-Header-Content-Length: 0).
 */
import fc from 'fast-check';
import {
  contentType,
  extraHeaders,
  jsonRequest,
  modelName,
  mutations,
  rawBytesElements,
  rawPayload,
  type JsonRequest,
} from './arbitraries.js';

export interface RestInput {
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

function inferPath(model: string, version: string | undefined): string {
  const m = `/v2/models/${encodeURIComponent(model)}`;
  return `${version === undefined ? m : `${m}/versions/${encodeURIComponent(version)}`}/infer`;
}

/** JSON bodies: the request as JSON, or its bytes mutated, or any JSON value, or any bytes. */
export const restJsonInput: fc.Arbitrary<RestInput> = fc
  .record({
    req: jsonRequest,
    ct: contentType,
    extra: extraHeaders,
    form: fc.constantFrom('json', 'json', 'json', 'json', 'json', 'json', 'mutated', 'any-json', 'bytes'),
    muts: mutations,
    anyJson: fc.jsonValue({ maxDepth: 5 }),
    bytes: fc.uint8Array({ maxLength: 256 }),
  })
  .map(({ req, ct, extra, form, muts, anyJson, bytes }) => {
    const text = Buffer.from(JSON.stringify(req.body));
    const body =
      form === 'json'
        ? text
        : form === 'mutated'
          ? muts.reduce<Buffer>((b, m) => m(b), text)
          : form === 'any-json'
            ? Buffer.from(JSON.stringify(anyJson) ?? 'null')
            : Buffer.from(bytes);
    const headers: Array<[string, string]> = [...extra];
    if (ct !== undefined) headers.push(['Content-Type', ct]);
    return { path: inferPath(req.model, req.version), headers, body };
  });

interface BinaryPart {
  binary: boolean;
  /** Bytes for a BYTES input in the raw encoding. */
  bytesElements: Buffer;
  /** Bytes for a fixed-size input. */
  raw: Uint8Array;
  /** Declared binary_data_size differs from the bytes sent. */
  lie: number | undefined;
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

function binaryPart(input: unknown): fc.Arbitrary<BinaryPart> {
  const i = (typeof input === 'object' && input !== null ? input : {}) as {
    datatype?: unknown;
    shape?: unknown;
  };
  const dims = Array.isArray(i.shape) ? i.shape.map(Number) : [];
  const count = dims.every((d) => Number.isSafeInteger(d) && d >= 0) ? dims.reduce((a, b) => a * b, 1) : 0;
  const size = (ELEMENT_BYTES[typeof i.datatype === 'string' ? i.datatype : ''] ?? 4) * Math.min(count, 256);
  return fc.record({
    binary: fc.oneof(
      { weight: 3, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    bytesElements: rawBytesElements,
    raw: rawPayload(size),
    lie: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1, 3, 2 ** 31, 1.5) },
    ),
  });
}

/** How Inference-Header-Content-Length relates to the JSON header's real length. */
const headerLengthForm = fc.oneof(
  { weight: 8, arbitrary: fc.constant<number | string>('exact') },
  {
    weight: 1,
    arbitrary: fc.constantFrom<number | string>('-1', 'abc', '1e3', ' 12', '99999999999', 'extra', '0x10'),
  },
);

function binaryRequest(req: JsonRequest): fc.Arbitrary<RestInput> {
  const inputs = Array.isArray(req.body.inputs) ? (req.body.inputs as unknown[]) : [];
  return fc
    .record({
      parts: fc.tuple(...inputs.map(binaryPart)),
      lengthForm: headerLengthForm,
      trailing: fc.oneof(
        { weight: 6, arbitrary: fc.constant(new Uint8Array(0)) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }) },
      ),
      extra: extraHeaders,
    })
    .map(({ parts, lengthForm, trailing, extra }) => {
      const payloads: Buffer[] = [];
      const headerInputs = inputs.map((input, k) => {
        const p = parts[k] as BinaryPart;
        if (!p.binary || typeof input !== 'object' || input === null) return input;
        const { data: _data, ...rest } = input as Record<string, unknown>;
        const payload = rest.datatype === 'BYTES' ? p.bytesElements : Buffer.from(p.raw);
        payloads.push(payload);
        const params = typeof rest.parameters === 'object' && rest.parameters !== null ? rest.parameters : {};
        return { ...rest, parameters: { ...params, binary_data_size: p.lie ?? payload.length } };
      });
      const header = Buffer.from(JSON.stringify({ ...req.body, inputs: headerInputs }));
      const body = Buffer.concat([header, ...payloads, Buffer.from(trailing)]);
      const value =
        lengthForm === 'exact'
          ? String(header.length)
          : lengthForm === 'extra'
            ? String(header.length + 7)
            : String(lengthForm);
      return {
        path: inferPath(req.model, req.version),
        headers: [
          ...extra,
          ['Inference-Header-Content-Length', value],
          ['Content-Type', 'application/octet-stream'],
        ] as Array<[string, string]>,
        body,
      };
    });
}

/** A raw binary request: the whole body is the single input's data (header length 0). */
const rawBinaryRequest: fc.Arbitrary<RestInput> = fc
  .record({ model: modelName, body: fc.uint8Array({ maxLength: 128 }), extra: extraHeaders })
  .map(({ model, body, extra }) => ({
    path: inferPath(model, undefined),
    headers: [...extra, ['Inference-Header-Content-Length', '0']] as Array<[string, string]>,
    body: Buffer.from(body),
  }));

/** Binary-extension requests, sometimes with their bytes mutated. */
export const restBinaryInput: fc.Arbitrary<RestInput> = fc
  .oneof(
    { weight: 5, arbitrary: jsonRequest.chain(binaryRequest) },
    { weight: 1, arbitrary: rawBinaryRequest },
  )
  .chain((input) =>
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(input) },
      {
        weight: 1,
        arbitrary: mutations.map((ms) => ({ ...input, body: ms.reduce<Buffer>((b, m) => m(b), input.body) })),
      },
    ),
  );
