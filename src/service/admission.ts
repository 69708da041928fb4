/**
 * What a transport asks of the service before it decodes a request's tensor data (issue 23): how
 * many elements the request may hold, and the checks of validate.ts that need no data. A request
 * refused here never has its data allocated.
 *
 * The bound is the smaller of the server's `maxRequestElements` and what the model can take at
 * all: the sum over its inputs of the declared dims, with the batch dim at `max_batch_size`
 * (infinite when another dim is dynamic).
 */
import { elementCount } from '../core/tensor.js';
import { InferdError } from '../errors.js';
import type { BackendMetadata } from '../core/model.js';
import { validateHeads, type InputHead } from './validate.js';

export type { InputHead };

export interface Admission {
  /** Most elements in all inputs of the request together. */
  readonly maxElements: number;
  /** The limit and where it comes from, for messages ("16777216 (--max-request-elements)"). */
  readonly why: string;
  /** Throws what validateRequest would for these inputs' headers; absent when no model is known. */
  checkInputs?(heads: readonly InputHead[]): void;
  /**
   * Counts a request refused by these checks as a failed request of the model version (reason
   * `invalid`), as one refused inside infer() is: the statistics and metrics see every refusal.
   */
  refused?(): void;
}

/** Only the server's bound (the model is not known, or the caller checks it elsewhere). */
export function serverAdmission(maxRequestElements: number): Admission {
  return { maxElements: maxRequestElements, why: `${maxRequestElements} (--max-request-elements)` };
}

/** Elements the model can take in one request; Infinity when a non-batch dim is dynamic. */
function modelCapacity(meta: BackendMetadata, maxBatchSize: number): number {
  let total = 0;
  for (const spec of meta.inputs) {
    let n = 1;
    spec.shape.forEach((d, i) => {
      n *= d >= 0 ? d : i === 0 && maxBatchSize > 0 ? maxBatchSize : Infinity;
    });
    total += n;
  }
  return total;
}

export function modelAdmission(
  name: string,
  meta: BackendMetadata,
  maxBatchSize: number,
  maxRequestElements: number,
  refused?: () => void,
): Admission {
  const capacity = modelCapacity(meta, maxBatchSize);
  const checkInputs = (heads: readonly InputHead[]): void => {
    try {
      validateHeads(heads, name, meta, maxBatchSize);
    } catch (err) {
      refused?.();
      throw err;
    }
  };
  if (capacity >= maxRequestElements) {
    return { ...serverAdmission(maxRequestElements), checkInputs, refused };
  }
  return {
    maxElements: capacity,
    why: `${capacity}, all that model '${name}' takes (its input shapes${maxBatchSize > 0 ? ` at max_batch_size ${maxBatchSize}` : ''})`,
    checkInputs,
    refused,
  };
}

export function tooManyElements(count: number | string, admission: Admission): InferdError {
  return new InferdError(
    'too_many_elements',
    `the request holds ${count} tensor elements; the limit is ${admission.why}`,
  );
}

/** Checks the inputs against the model, then the elements of all inputs together. */
export function admitInputs(heads: readonly InputHead[], admission: Admission): void {
  admission.checkInputs?.(heads);
  let total = 0;
  for (const h of heads) total += elementCount(h.shape);
  // `!(<=)`: a shape such as [1e300, 1e300, 0] multiplies to NaN.
  if (!(total <= admission.maxElements)) {
    admission.refused?.();
    throw tooManyElements(Number.isFinite(total) ? total : 'more than 2^53', admission);
  }
}
