/**
 * Cancellation reaches the work: a client that disconnects while OCR detection runs stops the
 * pipeline between steps (classification and recognition never run), and the steps left unrun are
 * counted in inferd_pipeline_steps_canceled_total. Through the real server and a real socket.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { makeOcrRepository } from './helpers/repo.js';

/** A page of text large enough that detection takes a good fraction of a second on 2 cores. */
async function page(): Promise<Buffer> {
  const lines = Array.from(
    { length: 24 },
    (_, i) =>
      `<text x="40" y="${60 + i * 48}" font-family="DejaVu Sans" font-size="34">Line ${i}: the quick brown fox jumps over the lazy dog</text>`,
  ).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="1240"><rect width="100%" height="100%" fill="white"/>${lines}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

async function metric(url: string, name: string, model: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`model="${model}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function executions(url: string, model: string): Promise<number> {
  const body = (await (await fetch(`${url}/v2/models/${model}/stats`)).json()) as {
    model_stats: Array<{ execution_count: number }>;
  };
  return body.model_stats.reduce((n, s) => n + s.execution_count, 0);
}

describe('OCR request canceled mid-pipeline', () => {
  let server: RunningServer;
  let repo: ReturnType<typeof makeOcrRepository>;

  before(async () => {
    repo = makeOcrRepository();
    server = await startTestServer(repo.dir, { auth: 'off' });
  });
  after(async () => {
    await server?.close();
    repo?.remove();
  });

  it('a client gone during detection: later steps do not run, and are counted', async () => {
    const url = server.httpUrl;
    const body = JSON.stringify({
      inputs: [
        {
          name: 'image',
          shape: [1],
          datatype: 'BYTES',
          parameters: { content_type: 'base64' },
          data: [(await page()).toString('base64')],
        },
      ],
    });
    const req = request(`${url}/v2/models/ocr/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('error', () => {}); // destroyed on purpose below
    req.end(body);
    // Wait until detection is queued or running, then hang up.
    const until = Date.now() + 30_000;
    while ((await metric(url, 'inferd_pending_requests', 'ocr-det')) < 1) {
      assert.ok(Date.now() < until, 'detection never started');
      await new Promise((r) => setTimeout(r, 5));
    }
    req.destroy();
    while ((await metric(url, 'inferd_pending_requests', 'ocr')) > 0) {
      assert.ok(Date.now() < until, 'the pipeline never finished');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await executions(url, 'ocr-rec'), 0, 'recognition ran for a client that had left');
    assert.equal(await executions(url, 'ocr-cls'), 0, 'classification ran for a client that had left');
    assert.ok(
      (await metric(url, 'inferd_pipeline_steps_canceled_total', 'ocr')) >= 3,
      'the unrun steps are counted',
    );
    const failures = (await (await fetch(`${url}/metrics`)).text())
      .split('\n')
      .find((l) => l.startsWith('inferd_request_failure_total{') && l.includes('model="ocr"'));
    assert.match(failures ?? '', /reason="canceled"\} 1$/);
  });
});
