/**
 * Parity with the reference implementation, @gutenye/ocr-node (PP-OCRv4 with OpenCV.js, same
 * model files; dev dependency, loaded only here). It runs detection without mean/std and a
 * letterboxed resize, so its boxes differ slightly; its line texts must match ours line for line,
 * except where the reference is the one further from the rendered truth. The reference ignores
 * EXIF orientation; there we must be right and it is not.
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
  invoker = await OrtInvoker.create();
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

test('on upright pages our lines match the reference line for line', async () => {
  let identical = 0;
  let total = 0;
  let cleanIdentical = 0;
  let cleanTotal = 0;
  let ourDegradedErr = 0;
  let refDegradedErr = 0;
  const upright = cases.filter((c) => c.kind !== 'rotated');
  assert.ok(upright.length >= 8);
  for (const [i, c] of upright.entries()) {
    const theirs = await referenceLines(c, i);
    const ours = (await runOcr(ocr, c.bytes)).text.split('\n');
    assert.equal(
      ours.length,
      theirs.length,
      `${c.name}: ${JSON.stringify(ours)} vs reference ${JSON.stringify(theirs)}`,
    );
    let ourPageErr = 0;
    let refPageErr = 0;
    ours.forEach((line, j) => {
      total++;
      if (c.kind === 'clean') cleanTotal++;
      const [ourErr, refErr] = [levenshtein(c.lines[j], line), levenshtein(c.lines[j], theirs[j])];
      ourPageErr += ourErr;
      refPageErr += refErr;
      if (line === theirs[j]) {
        identical++;
        if (c.kind === 'clean') cleanIdentical++;
        return;
      }
      console.log(
        `${c.name} line ${j}: ours ${JSON.stringify(line)} (${ourErr} edits), reference ${JSON.stringify(theirs[j])} (${refErr})`,
      );
      // On clean pages a line may differ only where the reference is the one that is wrong.
      if (c.kind === 'clean')
        assert.ok(ourErr < refErr, `${c.name} line ${j}: differs and we are not closer to the truth`);
    });
    if (c.kind === 'degraded') {
      ourDegradedErr += ourPageErr;
      refDegradedErr += refPageErr;
    }
  }
  // On degraded pages (noise, blur, lossy, dense) we are at least as close to the truth, pooled.
  console.log(`degraded pages: ${ourDegradedErr} edits from the truth, reference ${refDegradedErr}`);
  assert.ok(ourDegradedErr <= refDegradedErr);
  console.log(`parity: ${identical}/${total} lines identical to the reference`);
  assert.ok(cleanIdentical / cleanTotal >= 0.9, `clean pages: ${cleanIdentical}/${cleanTotal} identical`);
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
