/**
 * The generic pipeline backend, with steps registered by the test: config validation at load,
 * tensor wiring between function and model steps, cancellation and error mapping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { InferenceRequest, InferenceResponse, Tensor } from '../../src/core/tensor.js';
import { InferdError } from '../../src/errors.js';
import { parseModelConfig } from '../../src/core/model-config.js';
import type { ModelInvoker } from '../../src/runtime/backend.js';
import { createPipelineBackendFactory } from '../../src/runtime/pipeline/backend.js';
import { pipelineBackend } from '../../src/server.js';
import { StepRegistry } from '../../src/runtime/pipeline/registry.js';

const f32 = (name: string, values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape: [values.length],
  data: Float32Array.from(values),
});

/** A model repository of one model, "double", computed in the test: y = 2x. */
class DoublingInvoker implements ModelInvoker {
  readonly requests: InferenceRequest[] = [];
  async infer(request: InferenceRequest): Promise<InferenceResponse> {
    this.requests.push(request);
    if (request.modelName !== 'double')
      throw new InferdError('model_not_found', `no model ${request.modelName}`);
    const x = request.inputs.find((t) => t.name === 'x');
    if (!x) throw new InferdError('missing_input', 'x');
    return {
      modelName: 'double',
      modelVersion: '1',
      outputs: [
        f32(
          'y',
          [...(x.data as Float32Array)].map((v) => v * 2),
        ),
      ],
    };
  }
}

const registry = new StepRegistry().registerAll([
  {
    name: 'test.add',
    inputs: ['a', 'b'],
    outputs: ['sum'],
    create(params) {
      const bias = typeof params.bias === 'number' ? params.bias : 0;
      if (params.bias !== undefined && typeof params.bias !== 'number')
        throw new InferdError('invalid_config', 'bias must be a number');
      return async ({ a, b }) => {
        const x = a.data as Float32Array;
        const y = b.data as Float32Array;
        return {
          sum: f32(
            'sum',
            [...x].map((v, i) => v + y[i] + bias),
          ),
        };
      };
    },
  },
  {
    name: 'test.fail',
    inputs: ['a'],
    outputs: ['out'],
    create: () => async () => {
      throw new TypeError('boom');
    },
  },
]);
const factory = createPipelineBackendFactory(registry);

function config(steps: unknown[], outputs = ['out']): ReturnType<typeof parseModelConfig> {
  return parseModelConfig(
    {
      backend: 'pipeline',
      input: [
        { name: 'a', data_type: 'TYPE_FP32', dims: [-1] },
        { name: 'b', data_type: 'TYPE_FP32', dims: [-1] },
      ],
      output: outputs.map((name) => ({ name, data_type: 'TYPE_FP32', dims: [-1] })),
      pipeline: { steps },
    },
    'p',
  );
}

const load = (cfg: ReturnType<typeof config>, invoker: ModelInvoker = new DoublingInvoker()) =>
  factory.load({
    modelName: 'p',
    version: '1',
    versionDir: '/tmp',
    config: cfg,
    invoker,
    logger: pino({ level: 'silent' }),
  });

const addThenDouble = [
  {
    name: 'add',
    function: 'test.add',
    inputs: { a: 'a', b: 'b' },
    outputs: { sum: 's' },
    parameters: { bias: 1 },
  },
  { name: 'dbl', model: 'double', inputs: { x: 's' }, outputs: { y: 'out' } },
];

test('function and model steps are wired by tensor name; metadata comes from the config', async () => {
  const invoker = new DoublingInvoker();
  const backend = await load(config(addThenDouble), invoker);
  assert.equal(backend.metadata.platform, 'pipeline');
  assert.equal(backend.concurrency, 4); // pipeline.max_concurrency default
  assert.deepEqual(backend.metadata.inputs[0], { name: 'a', datatype: 'FP32', shape: [-1] });
  const [out] = await backend.infer([f32('a', [1, 2]), f32('b', [10, 20])]);
  assert.equal(out.name, 'out');
  assert.deepEqual([...(out.data as Float32Array)], [24, 46]); // (a + b + 1) · 2
  assert.equal(invoker.requests.length, 1);
  assert.deepEqual(invoker.requests[0].outputs, [{ name: 'y' }]);
  assert.equal(invoker.requests[0].inputs[0].name, 'x'); // renamed to the model's input name
});

test('the exported factory is named pipeline and knows the OCR steps', async () => {
  assert.equal(pipelineBackend.name, 'pipeline');
  assert.equal(pipelineBackend.platform, 'pipeline');
  await assert.rejects(
    load(config([{ function: 'ocr.nope', inputs: { a: 'a' }, outputs: { x: 'out' } }])),
    /unknown function/,
  );
});

const rejectsConfig = async (steps: unknown[], pattern: RegExp, outputs?: string[]): Promise<void> => {
  await assert.rejects(load(config(steps, outputs)), (e: unknown) => {
    assert.ok(e instanceof InferdError, String(e));
    assert.equal(e.code, 'invalid_config');
    assert.match(e.message, pattern);
    return true;
  });
};

test('bad pipeline configs fail at load with invalid_config naming the problem', async () => {
  await rejectsConfig(
    [{ function: 'test.add', inputs: { a: 'a' }, outputs: { sum: 'out' } }],
    /input 'b' of test.add is not wired/,
  );
  await rejectsConfig(
    [{ function: 'test.add', inputs: { a: 'a', b: 'zz' }, outputs: { sum: 'out' } }],
    /reads 'zz'/,
  );
  await rejectsConfig(
    [{ function: 'test.add', inputs: { a: 'a', b: 'b' }, outputs: { nope: 'out' } }],
    /has no output 'nope'/,
  );
  await rejectsConfig([{ function: 'test.add', model: 'double', inputs: {}, outputs: {} }], /exactly one of/);
  await rejectsConfig(
    [{ function: 'test.add', inputs: { a: 'a', b: 'b' }, outputs: { sum: 's' } }],
    /output 'out' is not produced/,
  );
  await rejectsConfig(
    [...addThenDouble, { function: 'test.add', inputs: { a: 's', b: 'b' }, outputs: { sum: 'z' } }],
    /reads 's' after model step 'dbl' consumed it/,
  );
  await rejectsConfig(
    [{ function: 'test.add', inputs: { a: 'a', b: 'b' }, outputs: { sum: 'a' } }],
    /produces 'a', which already exists/,
  );
  await rejectsConfig(
    [
      {
        name: 'x',
        function: 'test.add',
        inputs: { a: 'a', b: 'b' },
        outputs: { sum: 'out' },
        parameters: { bias: 'high' },
      },
    ],
    /step 'x': bias must be a number/,
  );
  await assert.rejects(
    load(parseModelConfig({ backend: 'pipeline', pipeline: { steps: addThenDouble } }, 'p')),
    /must declare "input" and "output"/,
  );
});

test('step failures: InferdErrors pass through, others become backend_error; aborts cancel', async () => {
  const failing = await load(
    config([{ name: 'f', function: 'test.fail', inputs: { a: 'a' }, outputs: { out: 'out' } }]),
  );
  await assert.rejects(failing.infer([f32('a', [1]), f32('b', [1])]), (e: unknown) => {
    assert.ok(e instanceof InferdError);
    assert.equal(e.code, 'backend_error');
    assert.match(e.message, /step 'f' failed: boom/);
    return true;
  });
  const missingModel = await load(config([{ model: 'nope', inputs: { x: 'a' }, outputs: { y: 'out' } }]));
  await assert.rejects(
    missingModel.infer([f32('a', [1]), f32('b', [1])]),
    (e: unknown) => e instanceof InferdError && e.code === 'model_not_found',
  );
  const ok = await load(config(addThenDouble));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(
    ok.infer([f32('a', [1]), f32('b', [1])], undefined, ac.signal),
    (e: unknown) => e instanceof InferdError && e.code === 'canceled',
  );
});
