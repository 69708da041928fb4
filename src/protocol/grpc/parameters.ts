/** InferParameter (a oneof of bool / int64 / string / double / uint64) ↔ internal parameters. */
import type { ParameterValue, Parameters } from '../../core/tensor.js';
import type { WireParameter, WireParameters } from './wire-types.js';

function valueOf(p: WireParameter): ParameterValue | undefined {
  switch (p.parameter_choice) {
    case 'bool_param':
      return p.bool_param ?? false;
    case 'int64_param':
      return Number(p.int64_param ?? 0);
    case 'uint64_param':
      return Number(p.uint64_param ?? 0);
    case 'double_param':
      return p.double_param ?? 0;
    case 'string_param':
      return p.string_param ?? '';
    default:
      // A parameter with no value set: nothing to pass on.
      return undefined;
  }
}

/** Undefined when the map is absent or empty, as the JSON codec leaves it. */
export function decodeParameters(wire: WireParameters | undefined): Parameters | undefined {
  if (!wire) return undefined;
  const out: Parameters = {};
  let any = false;
  for (const [k, p] of Object.entries(wire)) {
    const v = valueOf(p);
    if (v !== undefined) {
      out[k] = v;
      any = true;
    }
  }
  return any ? out : undefined;
}

export function encodeParameters(params: Parameters | undefined): WireParameters {
  const out: WireParameters = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (typeof v === 'boolean') out[k] = { bool_param: v };
    else if (typeof v === 'string') out[k] = { string_param: v };
    else if (Number.isSafeInteger(v)) out[k] = { int64_param: v };
    else out[k] = { double_param: v };
  }
  return out;
}
