/** `inferd tune`'s pure parts: the sweep space, the config a candidate makes, the Pareto front and the SVG. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { paretoFront, recommend, type Measured } from '../../../src/loadgen/tune/pareto.js';
import { judge } from '../../../src/loadgen/tune/confirm.js';
import {
  applyCandidate,
  candidates,
  defaultSpace,
  jsonFragment,
  label,
  pbtxtFragment,
  type Candidate,
} from '../../../src/loadgen/tune/space.js';
import { plotSvg } from '../../../src/loadgen/tune/svg.js';
import { decodeTextFormat } from '../../../src/repository/pbtxt/decode.js';
import { tritonModelConfigType } from '../../../src/repository/pbtxt/triton-schema.js';
import { fromTriton } from '../../../src/repository/triton-config.js';

const c = (over: Partial<Candidate> = {}): Candidate => ({
  instances: 1,
  threads: 1,
  maxBatch: 8,
  queueDelayUs: 0,
  pipelineDepth: 1,
  ...over,
});

const m = (name: string, throughput: number, p99: number, failed = 0): Measured<{ label: string }> => ({
  point: { label: name },
  throughput,
  p50: p99 / 2,
  p99,
  failed,
});

describe('tune: the sweep space', () => {
  it('never oversubscribes the CPUs, and drops queue delays without batching', () => {
    const list = candidates({
      instances: [1, 2, 4],
      threads: [1, 2],
      maxBatch: [0, 8],
      queueDelayUs: [0, 500],
      pipelineDepth: [1],
      cpus: 4,
    });
    assert.ok(list.every((x) => x.instances * x.threads <= 4));
    assert.ok(list.filter((x) => x.maxBatch === 0).every((x) => x.queueDelayUs === 0));
    assert.equal(new Set(list.map(label)).size, list.length, 'no duplicates');
    // (1,1) (1,2) (2,1) (2,2) (4,1) × (b0 d0, b8 d0, b8 d500)
    assert.equal(list.length, 5 * 3);
  });

  it('the default grid for 2 CPUs is small enough to sweep in minutes', () => {
    const list = candidates(defaultSpace(2));
    assert.ok(list.length > 0 && list.length <= 24, String(list.length));
  });

  it('a refused, oversized sweep names the limit', () => {
    const many = Array.from({ length: 16 }, (_, i) => i + 1);
    assert.throws(
      () =>
        candidates({
          instances: many,
          threads: [1],
          maxBatch: many,
          queueDelayUs: many,
          pipelineDepth: [1],
          cpus: 64,
        }),
      /at most 512/,
    );
  });

  it('a candidate changes only the settings it sweeps, and keeps everything else of the config', () => {
    const config = {
      name: 'spam',
      max_batch_size: 64,
      labels: ['ham', 'spam'],
      instance_group: [{ count: 1, kind: 'KIND_CPU' }],
      dynamic_batching: { max_queue_delay_microseconds: 500, preferred_batch_size: [8] },
      onnxruntime: { graph_optimization_level: 'all' },
    };
    const out = applyCandidate(
      config,
      c({ instances: 2, threads: 1, maxBatch: 32, queueDelayUs: 100, pipelineDepth: 2 }),
    );
    assert.deepEqual(out, {
      name: 'spam',
      max_batch_size: 32,
      labels: ['ham', 'spam'],
      instance_group: [{ count: 2, kind: 'KIND_CPU' }],
      dynamic_batching: { max_queue_delay_microseconds: 100, preferred_batch_size: [8] },
      onnxruntime: { graph_optimization_level: 'all', intra_op_num_threads: 1, pipeline_depth: 2 },
    });
    assert.equal(config.max_batch_size, 64, 'the original is not modified');
    assert.equal(applyCandidate(config, c({ maxBatch: 0 })).dynamic_batching, undefined);
  });

  it('the config.pbtxt fragment is valid Triton text format with the same settings as the JSON one', () => {
    const cand = c({ instances: 2, threads: 3, maxBatch: 16, queueDelayUs: 250, pipelineDepth: 2 });
    const { value } = decodeTextFormat(pbtxtFragment(cand), tritonModelConfigType());
    assert.equal(Number(value.max_batch_size), 16);
    assert.deepEqual(value.parameters, {
      intra_op_thread_count: { string_value: '3' },
      pipeline_depth: { string_value: '2' },
    });
    assert.deepEqual(jsonFragment(cand).onnxruntime, { intra_op_num_threads: 3, pipeline_depth: 2 });
    // Triton's ONNX backend parameter and inferd's pipeline_depth land in the onnxruntime section.
    const mapped = fromTriton(structuredClone(value), {
      model: 'm',
      origin: { file: 'config.pbtxt' },
      gpu: false,
    }) as {
      onnxruntime: unknown;
      parameters: unknown;
    };
    assert.deepEqual(mapped.onnxruntime, { intra_op_num_threads: 3, pipeline_depth: 2 });
    assert.deepEqual(mapped.parameters, {});
    assert.throws(
      () =>
        fromTriton(
          { parameters: { intra_op_thread_count: { string_value: 'many' } } },
          { model: 'm', origin: { file: 'config.pbtxt' }, gpu: false },
        ),
      /intra_op_thread_count: must be a positive whole number/,
    );
  });
});

describe('tune: Pareto front and recommendation', () => {
  const all = [m('a', 100, 10), m('b', 200, 20), m('c', 150, 30), m('d', 300, 50), m('e', 500, 5, 3)];

  it('keeps the points nothing beats on both throughput and p99, never a failed one', () => {
    assert.deepEqual(
      paretoFront(all).map((x) => x.point.label),
      ['a', 'b', 'd'],
    );
  });

  it('recommends the highest throughput, or the highest within a p99 budget', () => {
    assert.equal(recommend(all)?.point.label, 'd');
    assert.equal(recommend(all, 25)?.point.label, 'b');
    assert.equal(recommend(all, 1), undefined);
  });

  it('within 2% of the best throughput, the lower p99 wins', () => {
    assert.equal(recommend([m('fast', 1000, 40), m('steady', 990, 12)])?.point.label, 'steady');
    assert.equal(recommend([m('fast', 1000, 40), m('slower', 900, 12)])?.point.label, 'fast');
  });
});

describe('tune: the SVG', () => {
  it('is one standalone SVG with a mark per point, the front and the recommendation, labels escaped', () => {
    const pts = [m('i1 <t1>', 100, 10), m('i2 & t1', 200, 20), m('x', 150, 30)];
    const front = paretoFront(pts);
    const svg = plotSvg('tune "m"', pts, front, pts[1]);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<circle /g) ?? []).length, 3 + 1);
    assert.match(svg, /<polyline /);
    assert.match(svg, /recommended: i2 &amp; t1/);
    assert.match(svg, /i1 &lt;t1&gt;/);
    assert.ok(!svg.includes('<script'));
    assert.match(svg.trim(), /<\/svg>$/);
  });
});

describe('tune: confirming the winner side by side', () => {
  const round = (cur: number, cand: number, curP99 = 10, candP99 = 10, failed = 0) => ({
    current: m('current', cur, curP99),
    candidate: m('cand', cand, candP99, failed),
  });

  it('keeps the candidate when it serves at least as much in the median round', () => {
    const v = judge([round(100, 110), round(100, 95), round(100, 104)]);
    assert.equal(v.keep, true);
    assert.ok(Math.abs(v.ratio - 1.04) < 1e-9);
  });

  it('keeps the current config when the sweep win does not hold side by side', () => {
    const v = judge([round(100, 97), round(120, 110), round(90, 95)]);
    assert.equal(v.keep, false);
    assert.match(v.reason, /less than the current config/);
  });

  it('drops a candidate that failed requests, or whose p99 got worse, or is over the budget', () => {
    assert.equal(judge([round(100, 150), round(100, 150, 10, 10, 1)]).keep, false);
    const worse = judge([round(100, 120, 10, 13), round(100, 120, 10, 13)]);
    assert.equal(worse.keep, false);
    assert.match(worse.reason, /worse than the current/);
    assert.equal(judge([round(100, 120, 10, 13)], 12).keep, false);
    assert.equal(judge([round(100, 120, 10, 11)], 12).keep, true);
  });

  it('a current config that answered nothing loses to any working candidate', () => {
    assert.equal(judge([round(0, 50)]).keep, true);
    assert.throws(() => judge([]), /at least one round/);
  });
});
