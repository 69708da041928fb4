/**
 * The response cache on its own (src/service/response-cache.ts): what the key separates, the byte
 * bound with least-recently-used eviction, and copies in and out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BytesData, type Tensor } from '../../src/core/tensor.js';
import { ResponseCache, type RequestShape } from '../../src/service/response-cache.js';

const fp32 = (name: string, values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape: [1, values.length],
  data: new Float32Array(values),
});

const req = (a: number[], outputs?: RequestShape['outputs']): RequestShape => ({
  inputs: [fp32('a', a), fp32('b', [0, 0])],
  ...(outputs ? { outputs } : {}),
});

describe('response cache key', () => {
  const cache = new ResponseCache(1 << 20);
  const load1 = {};
  const load2 = {};

  it('is the same for the same model, version load, outputs and input bytes, in any input order', () => {
    const r = req([1, 2]);
    const swapped: RequestShape = { inputs: [...r.inputs].reverse() };
    assert.equal(cache.key('m', '1', load1, r), cache.key('m', '1', load1, req([1, 2])));
    assert.equal(cache.key('m', '1', load1, r), cache.key('m', '1', load1, swapped));
  });

  it('differs by model, version, load of the version, outputs, output parameters, shape, datatype and bytes', () => {
    const base = cache.key('m', '1', load1, req([1, 2]));
    const others = [
      cache.key('n', '1', load1, req([1, 2])),
      cache.key('m', '2', load1, req([1, 2])),
      cache.key('m', '1', load2, req([1, 2])), // version 1 reloaded: a new model file may answer
      cache.key('m', '1', load1, req([1, 2], [{ name: 'sum' }])),
      cache.key('m', '1', load1, req([1, 2], [{ name: 'sum', parameters: { classification: 1 } }])),
      cache.key('m', '1', load1, req([1, 3])),
      cache.key('m', '1', load1, { inputs: [{ ...fp32('a', [1, 2]), shape: [2, 1] }, fp32('b', [0, 0])] }),
      cache.key('m', '1', load1, {
        inputs: [
          {
            name: 'a',
            datatype: 'INT32',
            shape: [1, 2],
            data: new Int32Array(new Float32Array([1, 2]).buffer),
          },
          fp32('b', [0, 0]),
        ],
      }),
    ];
    assert.equal(new Set([base, ...others]).size, others.length + 1);
  });

  it('separates BYTES elements: ["ab", "c"] is not ["a", "bc"]', () => {
    const t = (items: string[]): RequestShape => ({
      inputs: [{ name: 't', datatype: 'BYTES', shape: [items.length], data: BytesData.fromStrings(items) }],
    });
    assert.notEqual(cache.key('m', '1', load1, t(['ab', 'c'])), cache.key('m', '1', load1, t(['a', 'bc'])));
    assert.equal(cache.key('m', '1', load1, t(['ab', 'c'])), cache.key('m', '1', load1, t(['ab', 'c'])));
  });
});

describe('response cache storage', () => {
  it('returns a copy of what was stored, and stored a copy', () => {
    const cache = new ResponseCache(1 << 20);
    const out = [
      fp32('sum', [3, 4]),
      { name: 't', datatype: 'BYTES' as const, shape: [1], data: BytesData.fromStrings(['hi']) },
    ];
    cache.set('k', out);
    (out[0]!.data as Float32Array)[0] = 99; // the caller's buffers may be moved or reused later
    const a = cache.get('k')!;
    assert.deepEqual([...(a[0]!.data as Float32Array)], [3, 4]);
    assert.equal((a[1]!.data as BytesData).text(0), 'hi');
    (a[0]!.data as Float32Array)[0] = 7;
    assert.deepEqual([...(cache.get('k')![0]!.data as Float32Array)], [3, 4]);
    assert.equal(cache.get('other'), undefined);
  });

  it('holds at most its byte budget, evicting the least recently used first', () => {
    const one = (v: number): Tensor[] => [fp32('o', new Array<number>(64).fill(v))]; // 256 data bytes
    const probe = new ResponseCache(1 << 20);
    probe.set('x', one(0));
    const entry = probe.bytes;
    const cache = new ResponseCache(entry * 3);
    cache.set('a', one(1));
    cache.set('b', one(2));
    cache.set('c', one(3));
    assert.equal(cache.size, 3);
    assert.ok(cache.get('a')); // a is now the most recent: b is the oldest
    cache.set('d', one(4));
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((k) => cache.get(k) !== undefined),
      [true, false, true, true],
    );
    assert.ok(cache.bytes <= cache.maxBytes);
    assert.equal(cache.evictions, 1);
  });

  it('does not store an entry larger than the whole budget', () => {
    const cache = new ResponseCache(512);
    cache.set('big', [fp32('o', new Array<number>(1024).fill(1))]);
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
  });

  it('is off with a budget of 0', () => {
    assert.equal(new ResponseCache(0).enabled, false);
  });
});
