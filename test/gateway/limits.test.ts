/** Plans on the wire: RateLimit headers, 429 rate_limited with Retry-After, quota, payload limit. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { PlanSet } from '../../src/gateway/plans.js';
import { makeApiRepository } from '../api/fixtures.js';
import { bearer, startGatewayServer, type GatewayServer } from '../api/server.js';

const PLANS: PlanSet = {
  plans: {
    // 1 request per minute refill: nothing refills during the test
    tiny: {
      requestsPerMinute: 1,
      burst: 3,
      concurrentRequests: 4,
      monthlyQuotaUnits: null,
      maxPayloadBytes: 200,
    },
    metered: {
      requestsPerMinute: 6000,
      burst: 100,
      concurrentRequests: 4,
      monthlyQuotaUnits: 12,
      maxPayloadBytes: 1 << 20,
    },
  },
  modelWeights: { ocr_echo: 5, spam: 1 },
  defaultWeight: 1,
};

describe('plans: rate limits, quotas, payload limits', () => {
  let repo: string;
  let g: GatewayServer;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo, { plans: PLANS });
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const spam = (key: string, body: unknown = { text: 'hi' }) =>
    fetch(g.url + '/v1/models/spam/predict', {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify(body),
    });

  it('burst requests pass with decreasing RateLimit headers, then 429 with Retry-After', async () => {
    const { key } = await g.admin.create({ name: 'rl', plan: 'tiny' });
    const seen: Array<[number, string | null, string | null]> = [];
    for (let i = 0; i < 4; i++) {
      const r = await spam(key);
      await r.arrayBuffer();
      seen.push([r.status, r.headers.get('ratelimit'), r.headers.get('x-ratelimit-remaining-requests')]);
      assert.equal(r.headers.get('ratelimit-policy'), '"default";q=1;w=60');
      assert.equal(r.headers.get('x-ratelimit-limit-requests'), '1');
      assert.match(r.headers.get('x-ratelimit-reset-requests') ?? '', /^\d+s$/);
      if (r.status === 429) {
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        assert.equal(r.headers.get('x-should-retry'), null);
      }
    }
    assert.deepEqual(
      seen.map(([s, , rem]) => [s, rem]),
      [
        [200, '2'],
        [200, '1'],
        [200, '0'],
        [429, '0'],
      ],
    );
    assert.match(seen[0]![1]!, /^"default";r=2;t=\d+$/);
  });

  it('rate-limit state is per key', async () => {
    const a = (await g.admin.create({ name: 'a', plan: 'tiny' })).key;
    const b = (await g.admin.create({ name: 'b', plan: 'tiny' })).key;
    for (let i = 0; i < 3; i++) await (await spam(a)).arrayBuffer();
    assert.equal((await spam(a)).status, 429);
    assert.equal((await spam(b)).status, 200);
  });

  it('a body over the plan limit → 413 payload_too_large before inference', async () => {
    const { key } = await g.admin.create({ name: 'big', plan: 'tiny' });
    const r = await spam(key, { text: 'x'.repeat(500) });
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as { code: string }).code, 'payload_too_large');
    // A streamed body has no Content-Length; the limit still holds once it is read.
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(JSON.stringify({ text: 'x'.repeat(500) })));
        c.close();
      },
    });
    const chunked = await fetch(g.url + '/v1/models/spam/predict', {
      method: 'POST',
      headers: bearer(key),
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.equal(((await chunked.json()) as { code: string }).code, 'payload_too_large');
  });

  it('monthly quota in weighted units → 429 quota_exceeded, x-should-retry: false; failures are not charged', async () => {
    const { key, record } = await g.admin.create({ name: 'q', plan: 'metered' });
    const ocr = (body: unknown) =>
      fetch(g.url + '/v1/models/ocr_echo/predict', {
        method: 'POST',
        headers: bearer(key),
        body: JSON.stringify(body),
      });
    const doc = Buffer.from('{"text":"t","lines":[]}').toString('base64');
    assert.equal((await ocr({ image_base64: doc })).status, 200); // 5
    assert.equal((await ocr({ nope: 1 })).status, 400); // failed: refunded
    assert.equal((await ocr({ image_base64: doc })).status, 200); // 10
    const over = await ocr({ image_base64: doc }); // 15 > 12
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('x-should-retry'), 'false');
    assert.equal(((await over.json()) as { code: string }).code, 'quota_exceeded');
    assert.equal((await spam(key)).status, 200); // 11
    assert.equal((await spam(key)).status, 200); // 12
    assert.equal((await spam(key)).status, 429);
    const totals = await g.store.usageTotals({ keyId: record.id });
    assert.equal(
      totals.reduce((n, t) => n + t.units, 0),
      12,
    );
  });
});
