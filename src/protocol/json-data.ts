/**
 * A tensor's JSON `data`, flat or nested (row-major either way), → its elements in order. Iterative
 * with an explicit stack, never recursive: the nesting comes from the client. Nested data may be
 * as deep as the tensor has dims (at least 1, so a scalar may still be sent as `[x]`); deeper is
 * refused. The elements are counted before anything is allocated, and flat data is returned as it
 * is (no copy).
 */
import { clip } from '../core/clip.js';
import { InferdError } from '../errors.js';

/** Elements of `data` in row-major order, checked to be exactly `expected` many. */
export function flattenData(
  data: unknown,
  shape: readonly number[],
  expected: number,
  name: string,
): unknown[] {
  if (!Array.isArray(data)) {
    checkCount(1, expected, name, shape);
    return [data];
  }
  const rank = shape.length;
  const maxDepth = Math.max(rank, 1);
  const arrays: unknown[][] = [data];
  const next: number[] = [0];
  let count = 0;
  let nested = false;
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const a = arrays[top]!;
    const i = next[top]!;
    if (i === a.length) {
      arrays.pop();
      next.pop();
      continue;
    }
    next[top] = i + 1;
    const v = a[i];
    if (Array.isArray(v)) {
      if (arrays.length === maxDepth) {
        throw new InferdError(
          'invalid_input',
          `input '${clip(name)}': data nests deeper than its shape [${clip(shape.join(', '))}] has dims (${maxDepth})`,
        );
      }
      nested = true;
      arrays.push(v);
      next.push(0);
    } else count += 1;
  }
  checkCount(count, expected, name, shape);
  if (!nested) return data;
  const out = new Array<unknown>(count);
  let at = 0;
  arrays.push(data);
  next.push(0);
  while (arrays.length > 0) {
    const top = arrays.length - 1;
    const a = arrays[top]!;
    const i = next[top]!;
    if (i === a.length) {
      arrays.pop();
      next.pop();
      continue;
    }
    next[top] = i + 1;
    const v = a[i];
    if (Array.isArray(v)) {
      arrays.push(v);
      next.push(0);
    } else out[at++] = v;
  }
  return out;
}

function checkCount(count: number, expected: number, name: string, shape: readonly number[]): void {
  if (count === expected) return;
  throw new InferdError(
    'invalid_input',
    `input '${clip(name)}' has ${count} elements but its shape [${clip(shape.join(', '))}] needs ${expected}`,
  );
}
