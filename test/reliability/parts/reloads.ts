/**
 * Version reloads under load: while 4 callers keep the `add` model busy, write a new version
 * folder (its sum adds the version number, so every answer shows which version computed it) and
 * load it with the admin token, SIZES.reloads times. Every load answers 200, every request 200 or
 * the documented refusal, and every answer is right for the version that gave it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { HttpJsonClient } from '../../../src/loadgen/http-connection.js';
import type { ClientRequest } from '../../../src/oip-client/types.js';
import { addModel, writeModel } from '../../fixtures/repository.js';
import { checkHttp } from '../lib/answers.js';
import { sampleRss } from '../lib/inferd.js';
import type { PartResult } from '../lib/results.js';
import { ADMIN_HEADER, ANSWER_BOUND_MS, SIZES } from '../settings.js';
import { tally, type SoakServer } from './soak.js';
import { closedLoopWhile } from './load-loop.js';

const request: ClientRequest = {
  modelName: 'add',
  inputs: [
    { name: 'a', datatype: 'FP32', shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
    { name: 'b', datatype: 'FP32', shape: [1, 4], data: new Float32Array([0, 0, 0, 0]) },
  ],
  outputs: [{ name: 'sum' }],
};

export async function reloadsUnderLoad(soak: SoakServer, part: PartResult): Promise<void> {
  const server = soak.server;
  const client = new HttpJsonClient(server.url);
  const rss = sampleRss(server);
  const start = server.rssMiB() ?? 0;
  // Version 1 is the fixture's (offset 0); reloads write 2, 3, … with offset = version.
  const load = closedLoopWhile(client, request, 4, (res) => {
    const version = Number(res.modelVersion);
    const sum0 = (res.outputs.find((o) => o.name === 'sum')?.data as Float32Array | undefined)?.[0];
    return sum0 === 1 + (version === 1 ? 0 : version);
  });
  let loads = 0;
  let slowest = 0;
  try {
    for (let v = 2; v < 2 + SIZES.reloads; v++) {
      writeModel(soak.repo, 'add', v, addModel(v));
      const t0 = performance.now();
      const res = await fetch(`${server.url}/v2/repository/models/add/load`, {
        method: 'POST',
        headers: { [ADMIN_HEADER.name]: ADMIN_HEADER.value },
        signal: AbortSignal.timeout(ANSWER_BOUND_MS),
      }).catch((err: Error) => err);
      slowest = Math.max(slowest, performance.now() - t0);
      if (res instanceof Error) {
        part.answer(`load: ${res.name === 'TimeoutError' ? 'hung' : 'network error'}`);
        part.fail(res.name === 'TimeoutError' ? 'hung' : 'network error');
        continue;
      }
      const body = Buffer.from(await res.arrayBuffer());
      const verdict = checkHttp(res.status, body);
      part.answer(`load: ${verdict.key}`);
      for (const p of verdict.problems) part.fail(p);
      if (res.status !== 200) part.fail(`load answered ${res.status}`);
      else loads += 1;
      // The previous version is unloaded (latest-1 policy); its folder can go.
      if (v > 2) rmSync(join(soak.repo, 'add', String(v - 1)), { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    const step = await load.stop();
    await client.close();
    tally(part, step);
    const { peak, last } = rss.stop();
    part.rss = { start, peak, end: last };
    if (server.crashed) part.fail('crash');
    part.notes.push(
      `${loads} of ${SIZES.reloads} reloads answered 200 (slowest ${slowest.toFixed(0)} ms) while ${step.sent} requests ran; RSS is informational here (ONNX Runtime sessions are created and released per reload)`,
    );
  }
}
