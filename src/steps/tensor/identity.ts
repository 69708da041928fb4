/**
 * `tensor.identity`: returns its input unchanged, as Triton's identity backend does. BYTES pass
 * through byte for byte (NUL bytes, invalid UTF-8 and all), which an ONNX Identity over a string
 * tensor cannot do: ONNX Runtime's strings are text and end at the first NUL.
 */
import type { StepDefinition } from '../../runtime/pipeline/registry.js';
import { InferdError } from '../../errors.js';

export const identityStep: StepDefinition = {
  name: 'tensor.identity',
  inputs: ['input'],
  outputs: ['output'],
  description: 'any tensor → the same tensor, bytes unchanged',
  create(raw) {
    if (Object.keys(raw).length > 0) {
      throw new InferdError('invalid_config', `parameters: tensor.identity takes none`);
    }
    return async ({ input }) => ({ output: { ...input!, name: 'output' } });
  },
};

/** The `tensor.*` step package. */
export const tensorSteps: readonly StepDefinition[] = [identityStep];
