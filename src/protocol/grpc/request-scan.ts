/**
 * A walk over a ModelInferRequest's bytes before anything is decoded (issue 23, finding 1).
 * protobufjs builds every element of a message before our handler runs: one Buffer per
 * `bytes_contents` element (~190 bytes of heap each, measured), a string per 64-bit value, a JS
 * number per float. The walk allocates nothing per field and:
 * - counts the typed `contents` elements of every input (the tensor elements) and records where
 *   each input's contents lie, so that they can be decoded into typed storage by
 *   contents-decode.ts instead of by protobufjs; once the count passes the limit (the server's,
 *   lowered to the model's as soon as the model is known) the rest of the contents are skipped
 *   whole, not walked;
 * - counts every other repeated entry (inputs, outputs, raw contents, parameters, shape dims)
 *   against the same envelope allowance as JSON bodies;
 * - refuses groups (wire types 3 and 4: not proto3, and skipped recursively by protobufjs) and
 *   fields with the wrong wire type.
 * The message's nesting is fixed by the schema (request → input → contents), never by the data.
 */
import { InferdError } from '../../errors.js';
import { ENVELOPE_VALUES } from '../http/json-body.js';
import { countVarints, I32, I64, LEN, malformed, VARINT, WireReader } from './wire-reader.js';

/** InferTensorContents field numbers, 1 = bool_contents … 8 = bytes_contents (grpc_service.proto). */
export const BOOL = 1;
export const INT = 2;
export const INT64 = 3;
export const UINT = 4;
export const UINT64 = 5;
export const FP32 = 6;
export const FP64 = 7;
export const BYTES = 8;

/** ModelInferRequest.InferInputTensor.contents */
const INPUT_CONTENTS = 5;

export interface ScannedInput {
  /** Offsets of the tag of each `contents` field of this input (a message may repeat it; they merge). */
  tags: number[];
  /** [start, end) of each such field's payload, in pairs. */
  ranges: number[];
  /** Elements per contents field number (index 1–8). */
  counts: number[];
  /** Total bytes of the bytes_contents elements. */
  bytes: number;
}

export interface InferRequestScan {
  /** [start, end) of model_name, model_version and id when present. */
  modelName?: [number, number];
  modelVersion?: [number, number];
  id?: [number, number];
  inputs: ScannedInput[];
  /** Elements in every input's typed contents together (a lower bound when `over`). */
  elements: number;
  /** The elements passed the limit: the rest were not counted, and none may be decoded. */
  over: boolean;
  /** The limit in force at the end. */
  limit: number;
}

/** Called once, when the first input is reached (or at the end): the limit for this model. */
export type ModelLimit = (scan: InferRequestScan) => number;

class Scanner {
  private entries = 0;
  private modelKnown = false;

  constructor(
    private readonly buf: Uint8Array,
    readonly result: InferRequestScan,
    private readonly modelLimit?: ModelLimit,
  ) {}

  /** model_name and model_version usually come first; the model's limit applies from here on. */
  private knowModel(): void {
    if (this.modelKnown) return;
    this.modelKnown = true;
    if (this.modelLimit) this.result.limit = Math.min(this.result.limit, this.modelLimit(this.result));
    if (this.result.elements > this.result.limit) this.result.over = true;
  }

  private entry(n = 1): void {
    this.entries += n;
    if (this.entries > ENVELOPE_VALUES) {
      throw new InferdError(
        'too_many_elements',
        `the request holds more than ${ENVELOPE_VALUES} inputs, outputs, parameters and shape dims together`,
      );
    }
  }

  private len(r: WireReader, wireType: number, what: string): [number, number] {
    if (wireType !== LEN) throw malformed(`${what} has wire type ${wireType}, not ${LEN}`);
    return r.len();
  }

  request(): InferRequestScan {
    const r = new WireReader(this.buf, 0, this.buf.length);
    while (!r.done) {
      const tag = r.varint32();
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 1:
          this.result.modelName = this.len(r, wt, 'model_name');
          break;
        case 2:
          this.result.modelVersion = this.len(r, wt, 'model_version');
          break;
        case 3:
          this.result.id = this.len(r, wt, 'id');
          break;
        case 4:
          this.entry();
          this.mapEntry(...this.len(r, wt, 'parameters'));
          break;
        case 5:
          this.entry();
          this.knowModel();
          this.input(...this.len(r, wt, 'inputs'));
          break;
        case 6:
          this.entry();
          this.output(...this.len(r, wt, 'outputs'));
          break;
        case 7:
          this.entry();
          this.len(r, wt, 'raw_input_contents');
          break;
        default:
          r.skip(wt);
      }
    }
    this.knowModel();
    return this.result;
  }

  /** A map<string, InferParameter> entry: InferParameter holds only scalars and a string. */
  private mapEntry(start: number, end: number): void {
    const r = new WireReader(this.buf, start, end);
    while (!r.done) {
      const tag = r.varint32();
      if (tag >>> 3 === 2) this.skipAll(...this.len(r, tag & 7, 'a parameter value'));
      else r.skip(tag & 7);
    }
  }

  private skipAll(start: number, end: number): void {
    const r = new WireReader(this.buf, start, end);
    while (!r.done) r.skip(r.varint32() & 7);
  }

  private output(start: number, end: number): void {
    const r = new WireReader(this.buf, start, end);
    while (!r.done) {
      const tag = r.varint32();
      if (tag >>> 3 === 2) {
        this.entry();
        this.mapEntry(...this.len(r, tag & 7, 'an output parameter'));
      } else r.skip(tag & 7);
    }
  }

  private input(start: number, end: number): void {
    const input: ScannedInput = { tags: [], ranges: [], counts: new Array<number>(9).fill(0), bytes: 0 };
    this.result.inputs.push(input);
    const r = new WireReader(this.buf, start, end);
    while (!r.done) {
      const at = r.pos;
      const tag = r.varint32();
      const wt = tag & 7;
      switch (tag >>> 3) {
        case 3: // shape: packed int64, or one varint per dim
          if (wt === LEN) {
            const [s, e] = r.len();
            this.entry(countVarints(this.buf, s, e));
          } else if (wt === VARINT) {
            this.entry();
            r.skipVarint();
          } else throw malformed(`shape has wire type ${wt}`);
          break;
        case 4:
          this.entry();
          this.mapEntry(...this.len(r, wt, 'an input parameter'));
          break;
        case INPUT_CONTENTS: {
          const [s, e] = this.len(r, wt, 'contents');
          this.entry(); // a message may repeat the field (they merge); each costs a record here
          input.tags.push(at);
          input.ranges.push(s, e);
          if (!this.result.over) this.contents(s, e, input);
          break;
        }
        default:
          r.skip(wt);
      }
    }
  }

  private contents(start: number, end: number, input: ScannedInput): void {
    const r = new WireReader(this.buf, start, end);
    let n = 0;
    while (!r.done) {
      const tag = r.varint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      let count = 0;
      if (field === BYTES) {
        const [s, e] = this.len(r, wt, 'bytes_contents');
        input.bytes += e - s;
        count = 1;
      } else if (field >= BOOL && field <= FP64) {
        const fixed = field === FP32 ? 4 : field === FP64 ? 8 : 0;
        if (wt === LEN) {
          const [s, e] = r.len();
          if (fixed === 0) count = countVarints(this.buf, s, e);
          else if ((e - s) % fixed === 0) count = (e - s) / fixed;
          else throw malformed(`packed contents field ${field} is not a multiple of ${fixed} bytes`);
        } else if (wt === (fixed === 0 ? VARINT : fixed === 4 ? I32 : I64)) {
          r.skip(wt);
          count = 1;
        } else throw malformed(`contents field ${field} has wire type ${wt}`);
      } else r.skip(wt);
      if (count > 0) {
        input.counts[field] = input.counts[field]! + count;
        n += count;
        if (this.result.elements + n > this.result.limit) {
          this.result.over = true;
          break;
        }
      }
    }
    this.result.elements += n;
  }
}

/** An empty scan result with the server's limit on elements. */
export function newScan(limit: number): InferRequestScan {
  return { inputs: [], elements: 0, over: false, limit };
}

/**
 * Walks a serialized ModelInferRequest into `into` (which keeps what was found so far, e.g. the
 * model name, when the walk throws). Throws an InferdError when the message is malformed or has
 * too many entries besides elements, or what `modelLimit` throws (an unknown model); elements
 * beyond the limit only set `over`.
 */
export function scanInferRequest(
  buf: Uint8Array,
  into: InferRequestScan,
  modelLimit?: ModelLimit,
): InferRequestScan {
  return new Scanner(buf, into, modelLimit).request();
}
