/**
 * Parity with the reference implementation, @gutenye/ocr-node (PP-OCRv4 with OpenCV.js, same
 * model files; dev dependency, loaded only here). Its line crops are cut as PaddleOCR's
 * get_rotate_crop_image cuts them, as ours are, but elsewhere it departs from PaddleOCR: detection
 * without mean/std on a letterboxed image, binarised at 0.03 with no box score, and recognition on
 * lanczos-resized crops scaled to [0, 1] instead of [−1, 1]. So its boxes, and some of its lines,
 * differ. On every upright page, clean or degraded, each line must be identical to the
 * reference's or strictly closer to the rendered truth, and the pages must have as many lines.
 * The reference ignores EXIF orientation; there we must be right and it is not.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ocr from '@gutenye/ocr-node';
import type { PipelineBackend } from '../../src/runtime/pipeline/backend.js';
import { renderedSet, type RenderedCase } from './helpers/dataset.js';
import { OrtInvoker, loadOcrPipeline, runOcr } from './helpers/ort-invoker.js';
import { levenshtein } from './helpers/render.js';

type Reference = Awaited<ReturnType<typeof Ocr.create>>;

let reference: Reference;
let invoker: OrtInvoker;
let ocr: PipelineBackend;
let cases: RenderedCase[];
let dir: string;

before(async () => {
  reference = await Ocr.create();
  // The float models: this judges our pipeline's steps against the reference's; what the shipped
  // int8 quantisation costs in accuracy is bounded separately (speed-settings.test.ts).
  invoker = await OrtInvoker.create(undefined, undefined, { float: true });
  ocr = await loadOcrPipeline(invoker);
  cases = await renderedSet();
  dir = mkdtempSync(join(tmpdir(), 'inferd-ocr-parity-'));
});

after(async () => {
  await invoker.release();
  rmSync(dir, { recursive: true, force: true });
});

/** The reference reads files; it returns one entry per visual row (boxes on a row joined by ' '). */
async function referenceLines(c: RenderedCase, i: number): Promise<string[]> {
  const file = join(dir, `case-${i}.${c.exifOrientation === 1 ? 'png' : 'jpg'}`);
  writeFileSync(file, c.bytes);
  const lines = await reference.detect(file);
  return lines.map((l: { text: string }) => l.text);
}

test("on every upright page each line is the reference's, or closer to the truth than it", async () => {
  let identical = 0;
  let closer = 0;
  let total = 0;
  let ourEdits = 0;
  let refEdits = 0;
  const upright = cases.filter((c) => c.kind !== 'rotated');
  assert.ok(upright.filter((c) => c.kind === 'clean').length >= 6);
  assert.ok(upright.filter((c) => c.kind === 'degraded').length >= 4);
  const failures: string[] = [];
  for (const [i, c] of upright.entries()) {
    const theirs = await referenceLines(c, i);
    const ours = (await runOcr(ocr, c.bytes)).text.split('\n');
    assert.equal(
      ours.length,
      theirs.length,
      `${c.name}: ${JSON.stringify(ours)} vs reference ${JSON.stringify(theirs)}`,
    );
    ours.forEach((line, j) => {
      total++;
      const [ourErr, refErr] = [levenshtein(c.lines[j], line), levenshtein(c.lines[j], theirs[j])];
      ourEdits += ourErr;
      refEdits += refErr;
      if (line === theirs[j]) {
        identical++;
        return;
      }
      const verdict = ourErr < refErr ? 'ours closer' : 'NOT CLOSER';
      const report = `${c.name} (${c.kind}) line ${j}: ours ${JSON.stringify(line)} (${ourErr} edits), reference ${JSON.stringify(theirs[j])} (${refErr}): ${verdict}`;
      console.log(report);
      if (ourErr < refErr) closer++;
      else failures.push(report);
    });
  }
  console.log(
    `parity: ${identical}/${total} lines identical to the reference, ${closer} differ with ours closer to the truth, ${failures.length} otherwise; ` +
      `edits from the truth over ${upright.length} upright pages: ours ${ourEdits}, reference ${refEdits}`,
  );
  assert.deepEqual(failures, [], 'lines that differ from the reference without being closer to the truth');
});

test('EXIF-rotated images: we read them, the reference does not', async () => {
  const rotated = cases.filter((c) => c.exifOrientation !== 1);
  assert.equal(rotated.length, 2);
  for (const [i, c] of rotated.entries()) {
    const truth = c.lines.join('\n');
    const ours = (await runOcr(ocr, c.bytes)).text;
    const theirs = (await referenceLines(c, 100 + i)).join('\n');
    const ourCer = levenshtein(truth, ours) / truth.length;
    const refCer = levenshtein(truth, theirs) / truth.length;
    console.log(
      `${c.name}: our CER ${(ourCer * 100).toFixed(1)}%, reference CER ${(refCer * 100).toFixed(1)}%`,
    );
    assert.ok(ourCer <= 0.02, ours);
    assert.ok(refCer >= 0.5, theirs);
  }
});
