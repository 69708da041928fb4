/**
 * --drain-delay-ms: after SIGTERM the replica reports not ready at once but keeps serving what the
 * load balancer still sends it, each answer closing its keep-alive connection; after the delay new
 * inference is refused with 503 server_draining, and the process exits 0. Without it (the default
 * 0), inference is refused right after the signal. See docs/deploy/drills.md (the rolling update).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { addModel, writeModel } from '../fixtures/repository.js';
import { exited, spawnServer, type Child } from '../helpers/spawn.js';

const repo = mkdtempSync(join(tmpdir(), 'inferd-drain-delay-'));
writeModel(repo, 'add', 1, addModel());
const children: Child[] = [];
after(() => {
  for (const c of children) c.proc.kill('SIGKILL');
  rmSync(repo, { recursive: true, force: true });
});

const BODY = JSON.stringify({
  inputs: [
    { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
    { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
  ],
});

/** One request through node:http, so the `connection` header is seen as sent. */
function call(
  url: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; connection?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const infer = (url: string) => call(url, 'POST', '/v2/models/add/infer', BODY);

it('serves during the drain delay with readiness 503 and connection: close, then refuses', async () => {
  const child = await spawnServer(['--model-repository', repo, '--auth', 'off', '--drain-delay-ms', '2500']);
  children.push(child);
  const before = await infer(child.url);
  assert.equal(before.status, 200);
  assert.notEqual(before.connection, 'close');

  child.proc.kill('SIGTERM');
  // The signal is handled asynchronously: wait for readiness to turn.
  let ready = 200;
  for (let i = 0; i < 100 && ready === 200; i++) {
    ready = (await call(child.url, 'GET', '/v2/health/ready')).status;
    if (ready === 200) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(ready, 503, 'readiness turns 503 on SIGTERM');
  const during = await infer(child.url);
  assert.equal(during.status, 200, `still served during the delay: ${during.body}`);
  assert.equal(during.connection, 'close');
  assert.deepEqual(
    (JSON.parse(during.body) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data,
    [2, 3, 4, 5],
  );

  // After the delay: refused with the drain code (or the listener is already closed).
  await new Promise((r) => setTimeout(r, 2700));
  const late = await infer(child.url).catch((err: NodeJS.ErrnoException) => ({
    status: 0,
    body: String(err.code),
  }));
  assert.ok(
    (late.status === 503 && late.body.includes('server_draining')) || late.body === 'ECONNREFUSED',
    `after the delay: ${late.status} ${late.body}`,
  );
  await exited(child.proc);
  assert.equal(child.proc.exitCode, 0);
});

it('without a drain delay, inference is refused right after SIGTERM', async () => {
  // 100 back-to-back calls take well under a second here: with any delay they would all be 200.
  const child = await spawnServer(['--model-repository', repo, '--auth', 'off']);
  children.push(child);
  assert.equal((await infer(child.url)).status, 200);
  child.proc.kill('SIGTERM');
  let answer = 200;
  for (let i = 0; i < 100 && answer === 200; i++) {
    answer = (await infer(child.url).catch(() => ({ status: 0 }))).status;
  }
  assert.notEqual(answer, 200, 'refused (503 or connection refused) once the signal is handled');
  await exited(child.proc);
});
