/**
 * The OCR speed settings change no answer: recognition in width-bucketed batches reads the same
 * texts as one line per call at (nearly) its own width; the classifier's `sample` policy judges
 * only the widest lines of an upright page and still turns an upside-down page; the graph rewrites
 * of ocr-det and ocr-rec (their configs' `onnxruntime.graph_rewrites`) read the same texts as the
 * models as shipped, and their static int8 quantisation costs at most 0.5 points of CER. Real
 * models, pages rendered by the tests. Everything but the int8 check runs the float models (the
 * configs' exact passes only), whose answers the settings must leave exactly as they were.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InferenceRequest, InferenceResponse } from '../../src/core/tensor.js';
import type { ModelInvoker } from '../../src/runtime/backend.js';
import { widestCrops } from '../../src/steps/ocr/classify.js';
import { renderDocument } from '../../bench/ocr/document.js';
import { renderedSet, type RenderedCase } from './helpers/dataset.js';
import { OrtInvoker, loadOcrPipeline, readConfig, runOcr } from './helpers/ort-invoker.js';
import { corpusCer } from './helpers/render.js';

type Config = ReturnType<typeof readConfig>;
type Steps = { name: string; parameters: Record<string, unknown> }[];

function setStep(name: string, params: Record<string, unknown>): (cfg: Config) => void {
  return (cfg) => {
    const step = (cfg.pipeline as { steps: Steps }).steps.find((s) => s.name === name);
    assert.ok(step);
    Object.assign(step.parameters, params);
  };
}

/** Records the batch size of every call per model. */
class CountingInvoker implements ModelInvoker {
  readonly calls = new Map<string, number[]>();
  constructor(private readonly inner: ModelInvoker) {}
  infer(request: InferenceRequest): Promise<InferenceResponse> {
    const list = this.calls.get(request.modelName) ?? [];
    list.push(request.inputs[0].shape[0]);
    this.calls.set(request.modelName, list);
    return this.inner.infer(request);
  }
  items(model: string): number {
    return (this.calls.get(model) ?? []).reduce((a, b) => a + b, 0);
  }
}

let invoker: OrtInvoker;
let cases: RenderedCase[];
let page: Buffer;

before(async () => {
  invoker = await OrtInvoker.create(undefined, undefined, { float: true });
  cases = await renderedSet();
  page = await renderDocument();
});
after(async () => invoker.release());

describe('recognition batches', () => {
  it('read the same texts as one line per call at its own width (rounded up to 8 columns)', async () => {
    const batched = new CountingInvoker(invoker);
    const single = new CountingInvoker(invoker);
    const a = await runOcr(await loadOcrPipeline(batched), page);
    const b = await runOcr(
      await loadOcrPipeline(single, setStep('rec', { batch_size: 1, bucket_step: 8, min_width: 8 })),
      page,
    );
    assert.ok(a.lines.length >= 20, `${a.lines.length} lines`);
    assert.deepEqual(
      a.lines.map((l) => l.text),
      b.lines.map((l) => l.text),
    );
    const recCalls = (c: CountingInvoker): number => c.calls.get('ocr-rec')?.length ?? 0;
    assert.equal(recCalls(single), a.lines.length);
    assert.ok(recCalls(batched) < recCalls(single) / 1.5, `${recCalls(batched)} batched calls`);
  });
});

describe('classifier policy', () => {
  it('widestCrops picks the n widest, first index first on ties', () => {
    assert.deepEqual(widestCrops([10, 50, 30, 50, 5], 3), [1, 3, 2]);
    assert.deepEqual(widestCrops([7], 4), [0]);
  });

  it('`sample` judges only the sampled lines of an upright page, `all` judges every line', async () => {
    const sampled = new CountingInvoker(invoker);
    const every = new CountingInvoker(invoker);
    const policy = (p: string) => setStep('cls', { policy: p, sample_lines: 2 });
    const a = await runOcr(await loadOcrPipeline(sampled, policy('sample')), page);
    const b = await runOcr(await loadOcrPipeline(every, policy('all')), page);
    assert.equal(a.text, b.text);
    // Up to 3 windows per line (max_windows): 2 sampled lines against every line.
    assert.ok(sampled.items('ocr-cls') <= 6, `${sampled.items('ocr-cls')} windows`);
    assert.ok(every.items('ocr-cls') >= b.lines.length, `${every.items('ocr-cls')} windows`);
  });

  it('`sample` still turns an upside-down page: a sampled line is turned, so every line is judged', async () => {
    const upsideDown = cases.find((c) => c.name === 'rotated 180 pixels');
    assert.ok(upsideDown);
    const counting = new CountingInvoker(invoker);
    const ocr = await loadOcrPipeline(counting, setStep('cls', { policy: 'sample', sample_lines: 1 }));
    const result = await runOcr(ocr, upsideDown.bytes);
    assert.equal(result.text, upsideDown.lines.join('\n'));
    const widths = counting.calls.get('ocr-cls') ?? [];
    assert.equal(widths.length, 2, 'the sample, then the rest');
  });

  it('refuses a policy it does not know', async () => {
    await assert.rejects(loadOcrPipeline(invoker, setStep('cls', { policy: 'sometimes' })), /policy/);
  });
});

describe('graph rewrites of ocr-det and ocr-rec', () => {
  it('read every rendered page as the models as shipped do', async () => {
    const shipped = await OrtInvoker.create(undefined, undefined, { rewrites: false });
    try {
      const [a, b] = [await loadOcrPipeline(invoker), await loadOcrPipeline(shipped)];
      for (const c of [...cases, { name: 'document', bytes: page }]) {
        const [x, y] = [await runOcr(a, c.bytes), await runOcr(b, c.bytes)];
        assert.equal(x.text, y.text, c.name);
        x.lines.forEach((l, i) => assert.ok(Math.abs(l.confidence - y.lines[i].confidence) < 1e-3, c.name));
      }
    } finally {
      await shipped.release();
    }
  });

  it('the int8 models (as configured) read the rendered set and the page within 0.5 points of CER of the float ones', async () => {
    const int8 = await OrtInvoker.create();
    try {
      const pages = cases.map((c) => ({ bytes: c.bytes, text: c.lines.join('\n') }));
      const cer = async (inv: OrtInvoker): Promise<number> => {
        const ocr = await loadOcrPipeline(inv);
        return (await corpusCer(pages, async (bytes) => (await runOcr(ocr, bytes)).text)).percent;
      };
      const [f, q] = [await cer(invoker), await cer(int8)];
      assert.ok(q - f <= 0.5, `CER float ${f.toFixed(2)}%, int8 ${q.toFixed(2)}%`);
      for (const m of ['ocr-det', 'ocr-rec']) {
        const passes = (readConfig(m).onnxruntime as { graph_rewrites: string[] }).graph_rewrites;
        assert.ok(passes.includes('int8-qdq'), `${m} is quantised`);
      }
    } finally {
      await int8.release();
    }
  });
});
