/**
 * Issue 23, finding 11: a model name like `=cmd|calc!A0` was stored from a 404 and exported raw
 * in the admin CSV (formula injection), and unknown model names were stored without a limit. Calls
 * to models that do not exist are not metered now, stored names are bounded, and the export
 * follows OWASP's CSV injection guidance.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makeApiRepository } from '../api/fixtures.js';
import { ADMIN_TOKEN, bearer, startGatewayServer, type GatewayServer } from '../api/server.js';

const FORMULA = '=cmd|calc!A0';

describe('usage: unknown models are not metered, the CSV export is safe to open', () => {
  let repo: string;
  let g: GatewayServer;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo, { settings: { v2Auth: 'keys' } });
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const ADD = JSON.stringify({
    inputs: [
      { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
      { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
    ],
  });
  /** A valid body for the route: /v1 task JSON or a /v2 inference request. */
  const post = (key: string, path: string) =>
    fetch(g.url + path, {
      method: 'POST',
      headers: bearer(key),
      body: path.startsWith('/v2/') ? ADD : '{"text":"hi"}',
    });

  it('a call to a model that does not exist is answered 404 and not recorded, on /v1 and /v2', async () => {
    const { key, record } = await g.admin.create({ name: 'probe', plan: 'unlimited' });
    for (const path of [
      `/v1/models/${encodeURIComponent(FORMULA)}/predict`,
      `/v1/models/${'m'.repeat(100)}/predict`, // fastify refuses longer path parameters (414)
      `/v2/models/${encodeURIComponent(FORMULA)}/infer`,
      `/v2/models/${'m'.repeat(5000)}/infer`,
    ]) {
      const r = await post(key, path);
      assert.equal(r.status, 404, path.slice(0, 40));
    }
    assert.equal((await post(key, '/v1/models/spam/predict')).status, 200);
    const records = await g.store.usageRecords({ keyId: record.id });
    assert.deepEqual(
      records.map((r) => r.model),
      ['spam'],
    );
  });

  it('client text in the export is quoted and defused; stored versions are bounded', async () => {
    const { key, record } = await g.admin.create({ name: 'csv', plan: 'unlimited' });
    // The model exists, the version does not: recorded as a failed call, with the client's text.
    for (const v of [FORMULA, '+1+1', '-2+3', '@SUM(A1)', '\tx']) {
      const r = await post(key, `/v1/models/spam/versions/${encodeURIComponent(v)}/predict`);
      assert.equal(r.status, 404);
    }
    // The raw /v2 route has no path parameter limit of its own: a 5,000-character version.
    const long = await post(key, `/v2/models/add/versions/${'v'.repeat(5000)}/infer`);
    assert.equal(long.status, 404);
    const records = await g.store.usageRecords({ keyId: record.id });
    assert.equal(records.length, 6);
    assert.ok(
      records.every((r) => r.version.length <= 255),
      'versions are cut to 255 characters',
    );
    const csv = await (
      await fetch(`${g.url}/admin/usage?format=csv&key_id=${record.id}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).text();
    const rows = csv.trim().split('\r\n').slice(1);
    assert.equal(rows.length, 6);
    const cells = rows.map((row) => row.split('","').map((c) => c.replace(/^"|"$/g, '')));
    assert.ok(
      rows.every((row) => /^"[^]*"$/.test(row)),
      'every cell is quoted',
    );
    const versions = cells.map((c) => c[3]!);
    assert.deepEqual(versions.slice(0, 5), [`'${FORMULA}`, "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx"]);
    for (const c of cells.flat()) assert.doesNotMatch(c, /^[=+\-@\t\r]/, `cell ${c.slice(0, 20)}`);
  });
});
