/**
 * Greedy CTC decoding of the recogniser's per-timestep class probabilities, as PaddleOCR's
 * CTCLabelDecode: argmax per step, merge repeats, drop the blank (class 0). Class i ≥ 1 is
 * dictionary entry i − 1; the dictionary is ppocr_keys_v1.txt (one character per line) plus a
 * trailing space (use_space_char), 6623 + 1 entries for 6625 classes with the blank.
 */
import { readFile } from 'node:fs/promises';
import { InferdError } from '../../errors.js';

export interface DecodedText {
  text: string;
  /** Mean probability of the kept characters; 0 for an empty line. */
  confidence: number;
}

/** Reads a one-character-per-line dictionary; `useSpaceChar` appends ' ' as PaddleOCR does. */
export async function loadDictionary(path: string, useSpaceChar: boolean): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const chars = text.split(/\r?\n/);
  // A trailing newline would otherwise add an empty entry and shift every class after it.
  if (chars.length > 0 && chars[chars.length - 1] === '') chars.pop();
  if (useSpaceChar) chars.push(' ');
  return chars;
}

/**
 * Decodes one sequence. `probs` holds `steps` × `classes` floats starting at `offset`
 * (row-major [T, C]); `steps` may be cut short to skip right padding.
 */
export function ctcDecode(
  probs: Float32Array,
  offset: number,
  steps: number,
  classes: number,
  dictionary: readonly string[],
): DecodedText {
  if (classes !== dictionary.length + 1) {
    throw new InferdError(
      'backend_error',
      `recogniser has ${classes} classes but the dictionary has ${dictionary.length} characters (+1 blank)`,
    );
  }
  let text = '';
  let sum = 0;
  let kept = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base];
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c];
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== prev) {
      text += dictionary[best - 1];
      sum += bestP;
      kept++;
    }
    prev = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}
