/**
 * `text/csv` request bodies (SageMaker's tabular convention) → one input tensor. The rule, for a
 * model with exactly one input of rank 2 and a numeric datatype (such as FP32 [-1, 4]):
 *   every non-empty line is one row, its comma-separated fields are the row's values in column
 *   order; all rows have the same number of fields; the tensor is [rows, columns] in the input's
 *   datatype. No header row, no quoting (a quoted or non-numeric field is refused, naming its line
 *   and column), CRLF or LF line ends, spaces around a field ignored.
 * Any other model gets 415 with what to send instead. Fields are counted against the request's
 * element bound before any value is parsed.
 */
import { clip } from '../../core/clip.js';
import type { TensorSpec } from '../../core/model.js';
import { DATATYPES, type Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import { admitInputs, tooManyElements, type Admission } from '../../service/admission.js';
import { valuesToData } from '../tensor-values.js';

/** Every datatype but BOOL and BYTES: what a CSV field can be parsed into. */
const NUMERIC: ReadonlySet<string> = new Set(DATATYPES.filter((d) => d !== 'BOOL' && d !== 'BYTES'));

/** The model's one input when CSV maps onto it cleanly; throws 415 saying why otherwise. */
export function csvInput(model: string, inputs: readonly TensorSpec[]): TensorSpec {
  const only = inputs.length === 1 ? inputs[0]! : undefined;
  if (!only || only.shape.length !== 2 || !NUMERIC.has(only.datatype)) {
    const has = inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(', ')}]`).join('; ');
    throw new InferdError(
      'unsupported_media_type',
      `text/csv maps onto a model with one numeric input of rank 2 (rows × columns); model '${clip(model)}' has ${clip(has, 512)}: send Open Inference Protocol JSON (Content-Type: application/json) instead`,
    );
  }
  return only;
}

const COMMA = 0x2c;
const LF = 0x0a;

/** Rows and fields of the body, counted without allocating (so the bound is checked first). */
function count(body: Buffer): { rows: number; fields: number } {
  let rows = 0;
  let fields = 0;
  let lineFields = 1;
  let lineHasText = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === LF) {
      if (lineHasText) {
        rows += 1;
        fields += lineFields;
      }
      lineFields = 1;
      lineHasText = false;
    } else if (c === COMMA) lineFields += 1;
    else if (c !== 0x0d && c !== 0x20 && c !== 0x09) lineHasText = true;
  }
  if (lineHasText) {
    rows += 1;
    fields += lineFields;
  }
  return { rows, fields };
}

export function decodeCsv(body: Buffer, spec: TensorSpec, admission: Admission): Tensor {
  const { rows, fields } = count(body);
  if (rows === 0)
    throw new InferdError('invalid_request', 'the CSV body has no rows; send one row of numbers per line');
  if (fields > admission.maxElements) {
    admission.refused?.();
    throw tooManyElements(fields, admission);
  }
  const values: number[] = [];
  let columns = -1;
  let row = 0;
  for (const line of body.toString('utf8').split('\n')) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') continue;
    row += 1;
    const cells = text.split(',');
    if (columns < 0) columns = cells.length;
    else if (cells.length !== columns) {
      throw new InferdError(
        'invalid_input',
        `CSV line ${row} has ${cells.length} fields; line 1 has ${columns}: every row needs the same number of columns`,
      );
    }
    cells.forEach((cell, col) => {
      const t = cell.trim();
      const v = t === '' ? NaN : Number(t);
      if (!Number.isFinite(v)) {
        throw new InferdError(
          'invalid_input',
          `CSV line ${row}, column ${col + 1}: '${clip(t, 64)}' is not a number (send numbers only: no header row, no quotes)`,
        );
      }
      values.push(v);
    });
  }
  const shape = [rows, columns];
  admitInputs([{ name: spec.name, shape, datatype: spec.datatype }], admission);
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape,
    data: valuesToData(spec.datatype, values, spec.name),
  };
}
