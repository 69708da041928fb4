/**
 * Untrusted JSON bodies: a byte-level scan that bounds what JSON.parse would allocate, then the
 * parse itself (issue 23, finding 1).
 *
 * Why a scan first: JSON.parse builds every value before any of our checks run, and the cost per
 * value is far above its size in the body. Measured on Node 20 (4 Mi values): a number or short
 * string costs 8 bytes of heap, an empty array 40, an empty object 64, so a 64 MiB body of `{},`
 * would need 1.4 GB. The scan walks the bytes once, allocates nothing, and counts:
 * - values: every number, string, true, false and null (object keys excluded), and every array
 *   and object counted as CONTAINER_WEIGHT values, since each costs about that much;
 * - depth: how deeply arrays and objects nest (a tensor's nested `data` has one level per dim).
 * Invalid JSON is left to JSON.parse, which reports it; the counts are exact for valid JSON.
 */
import { InferdError } from '../../errors.js';

/** An array or object costs V8 about as much as this many numbers (40–64 bytes vs 8). */
const CONTAINER_WEIGHT = 8;
/**
 * Values a request may hold beyond its tensor elements: names, datatypes, shapes, parameters,
 * requested outputs. 65,536 is far above any model's envelope and costs at most 4 MiB to parse.
 */
export const ENVELOPE_VALUES = 65_536;
/**
 * Deepest nesting: the envelope takes 3 levels (body, inputs, input) and nested data one per dim,
 * so 64 admits rank 61; ONNX Runtime tensors of rank above 8 are rare.
 */
const MAX_JSON_DEPTH = 64;

export interface JsonLimits {
  /** Most values (containers weighted) the body may hold. */
  maxValues: number;
  /** Ends the refusal's message: where the limit comes from and what to do. */
  why: string;
  /** Told when the body is refused for its size (the service counts it against the model). */
  refused?: () => void;
  maxDepth?: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Throws when the body holds more values or nests deeper than allowed; otherwise returns. */
function scanJson(bytes: Uint8Array, limits: JsonLimits): void {
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  // inObject[d] = 1 when the container at depth d is an object (d = 1 is the outermost).
  const inObject = new Uint8Array(maxDepth + 2);
  let depth = 0;
  let values = 0;
  // In an object, a string is a key until its colon; `expectKey` is true right after { or ,.
  let expectKey = false;
  // True where a scalar may start (after [, :, a comma in an array, or at the top).
  let valueStart = true;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    switch (c) {
      case QUOTE: {
        // Skip the string; a backslash escapes the next byte (\" and \\ included).
        let j = i + 1;
        while (j < n) {
          const d = bytes[j]!;
          if (d === BACKSLASH) j += 2;
          else if (d === QUOTE) break;
          else j += 1;
        }
        if (!(inObject[depth] === 1 && expectKey)) values += 1;
        expectKey = false;
        valueStart = false;
        i = j;
        break;
      }
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        depth += 1;
        if (depth > maxDepth) {
          throw new InferdError(
            'invalid_input',
            `the JSON body nests more than ${maxDepth} levels deep; nested tensor data has one level per dimension`,
          );
        }
        inObject[depth] = c === OPEN_OBJECT ? 1 : 0;
        values += CONTAINER_WEIGHT;
        expectKey = c === OPEN_OBJECT;
        valueStart = c === OPEN_ARRAY;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (depth > 0) depth -= 1;
        expectKey = false;
        valueStart = false;
        break;
      case COLON:
        expectKey = false;
        valueStart = true;
        break;
      case COMMA:
        expectKey = inObject[depth] === 1;
        valueStart = inObject[depth] === 0;
        break;
      case 0x20:
      case 0x09:
      case 0x0a:
      case 0x0d:
        break;
      default:
        // The first byte of a number, true, false or null; the rest of the token follows.
        if (valueStart) {
          values += 1;
          valueStart = false;
        }
    }
    if (values > limits.maxValues) {
      limits.refused?.();
      throw new InferdError(
        'too_many_elements',
        `the JSON body holds more than ${limits.maxValues} values (each array or object counts as ${CONTAINER_WEIGHT}); ${limits.why}`,
      );
    }
  }
}

/**
 * Scans and parses a JSON body. `notJson` starts the message when it does not parse, followed by
 * JSON.parse's own ("the request body is not valid JSON").
 */
export function parseJsonBody(
  bytes: Uint8Array,
  limits: JsonLimits,
  notJson = 'the request body is not valid JSON',
): unknown {
  scanJson(bytes, limits);
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new InferdError('invalid_json', `${notJson}: ${(err as Error).message}`);
  }
}

/**
 * The limits of a request that may hold `maxElements` tensor elements (service/admission.ts);
 * `why` says where that number comes from.
 */
export function requestJsonLimits(bound: {
  maxElements: number;
  why: string;
  refused?: () => void;
}): JsonLimits {
  const { maxElements, why, refused } = bound;
  return {
    maxValues: maxElements + ENVELOPE_VALUES,
    refused,
    why: `the limit on tensor elements is ${why}, and names, shapes and parameters may add ${ENVELOPE_VALUES} values (nested rows count too: send large tensors flat, or in binary)`,
  };
}
