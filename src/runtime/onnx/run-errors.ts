/**
 * ONNX Runtime's run failures as catalogue errors. ORT's messages carry its source paths, C++
 * signatures and assertion text ("/onnxruntime_src/.../element_wise_ops.h:563 void
 * onnxruntime::BroadcastIterator::Init(...) axis == 1 || axis == largest was false"): none of that
 * goes to a client. What the client caused (a shape or type the model cannot take, although the
 * request matched the model's declared inputs) is 400 `invalid_input` naming the input, the shape
 * given and the shape declared; anything else is 500 `backend_error` with a plain message, and ORT's
 * own text stays in the error's `cause`, which the transports log for server faults.
 */
import { InferdError } from '../../errors.js';
import type { TensorSpec } from '../../core/model.js';

/** A failure that ONNX Runtime reported for one execution (its message, verbatim). */
export class OrtRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrtRunError';
  }
}

export interface RunFacts {
  model: string;
  /** Inputs as they were sent to the session (a batch: dim 0 may sum several requests). */
  inputs: ReadonlyArray<{ name: string; shape: readonly number[] }>;
  /** The inputs the model declares (-1 = any size). */
  declared: readonly TensorSpec[];
}

const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** ONNX type names in ORT's messages ("tensor(double)") → protocol datatypes. */
const ONNX_TYPE: Record<string, string> = {
  float: 'FP32',
  double: 'FP64',
  float16: 'FP16',
  bfloat16: 'BF16',
  bool: 'BOOL',
  string: 'BYTES',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
};

/** Faults of the server, not of the request, even inside a node: memory, devices, missing kernels. */
const SERVER_FAULT = /alloc|out of memory|memory|cuda|cudnn|cublas|not[_ ]implemented|ep_fail/i;
/** What a node says when the shapes it got do not fit it. */
const SHAPE_TROUBLE =
  /shape|dimension|\bdims?\b|broadcast|rank|\baxis\b|\baxes\b|size|reshape|mismatch|incompatible|invalid input|indices|index|out of (range|bounds)|kernel|channel|pads|stride/i;

function given(facts: RunFacts, name: string): string {
  const input = facts.inputs.find((i) => i.name === name);
  const spec = facts.declared.find((s) => s.name === name);
  const shape = input ? fmt(input.shape) : '?';
  return spec ? `'${name}' ${shape} (declared ${fmt(spec.shape)})` : `'${name}' ${shape}`;
}

const allInputs = (facts: RunFacts): string => {
  const list = facts.inputs.map((i) => given(facts, i.name));
  return `${list.length === 1 ? 'input' : 'inputs'} ${list.join(', ')}`;
};

function invalid(message: string, cause: unknown): InferdError {
  return new InferdError('invalid_input', message, { cause });
}

/** Maps one run failure; `err` is what the instance rejected with. */
export function runFailure(err: unknown, facts: RunFacts): unknown {
  if (!(err instanceof OrtRunError)) return err; // the instance's own errors are already catalogued
  const text = err.message;
  const m = `model '${facts.model}'`;

  // ORT's own checks of the feeds against the graph's inputs.
  let match =
    /^Got invalid dimensions for input: (\S+) for the following indices((?:\s+index: \d+ Got: \d+ Expected: \d+)+)/.exec(
      text,
    );
  if (match) {
    const name = match[1]!;
    const dims = [...match[2]!.matchAll(/index: (\d+) Got: (\d+) Expected: (\d+)/g)].map(
      ([, i, g, e]) => `dim ${i} is ${g} where the model needs ${e}`,
    );
    return invalid(`input ${given(facts, name)} does not fit ${m}: ${dims.join('; ')}`, err);
  }
  match = /^Invalid rank for input: (\S+) Got: (\d+) Expected: (\d+)/.exec(text);
  if (match) {
    return invalid(
      `input ${given(facts, match[1]!)} has ${match[2]} dimensions where ${m} needs ${match[3]}`,
      err,
    );
  }
  match = /^Unexpected input data type\. Actual: \(tensor\((\w+)\)\) , expected: \(tensor\((\w+)\)\)/.exec(
    text,
  );
  if (match) {
    const actual = ONNX_TYPE[match[1]!] ?? match[1];
    const expected = ONNX_TYPE[match[2]!] ?? match[2];
    return invalid(`${m} needs ${expected} where the request gives ${actual} (${allInputs(facts)})`, err);
  }
  match = /^input '([^']+)' is missing in 'feeds'/.exec(text);
  if (match) return new InferdError('missing_input', `${m} needs input '${match[1]}'`, { cause: err });

  // A node of the graph failed. With the feeds accepted, what a node refuses about shapes comes
  // from sizes the model leaves open (-1) taking values it cannot compute with.
  match =
    /^Non-zero status code returned while running (\S+) node\. Name:'([^']*)' Status Message: ([\s\S]*)$/.exec(
      text,
    );
  if (match && !SERVER_FAULT.test(match[3]!) && SHAPE_TROUBLE.test(match[3]!)) {
    const [, op, node, status] = match;
    const broadcast = /broadcast an axis by a dimension other than 1\. (\d+) by (\d+)/.exec(status!);
    const why = broadcast ? `: a size of ${broadcast[1]} met a size of ${broadcast[2]}` : '';
    return invalid(
      `${m} cannot compute with ${allInputs(facts)}: its ${op} node '${node}' refused the sizes${why}; a size the model leaves open (-1) has a value it cannot use`,
      err,
    );
  }
  return new InferdError('backend_error', `${m} failed while computing (the details are in the server log)`, {
    cause: err,
  });
}
