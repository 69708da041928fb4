/**
 * Slowloris and stalled bodies at scale (finding 3), on a server with the short transport limits of
 * settings.ts (TIMEOUTS):
 * A. slow headers, stalled small bodies and stalled large uploads all at once: while they hang
 *    on, an ordinary client is served and liveness answers; then each of them is closed by the
 *    server (or answered 408 with a code) within its timeout + slack. RSS is recorded.
 * B. more connections than the cap at once, a request on each: the excess is refused (503 with
 *    its code, or closed), and once they are gone a new client is served.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHttp } from '../lib/answers.js';
import { Inferd, probeLiveness, sampleRss } from '../lib/inferd.js';
import { exchange, httpBytes, openConnection, rawRequest, type RawAnswer } from '../lib/raw-http.js';
import { makeSuiteRepository } from '../lib/repo.js';
import type { PartResult } from '../lib/results.js';
import {
  ANSWER_BOUND_MS,
  LIVE_BOUND_MS,
  SIZES,
  TIMEOUT_SLACK_MS,
  TIMEOUTS,
  TRANSPORT_ENV,
} from '../settings.js';

const ADD_BODY = JSON.stringify({
  inputs: [
    { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
    { name: 'b', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] },
  ],
});

function judge(part: PartResult, kind: string, a: RawAnswer, boundMs: number, caseId: string): void {
  if (a.hung || a.ms > boundMs) {
    part.answer(`${kind}: still open`);
    part.fail('hung', caseId);
    return;
  }
  if (a.status === undefined) {
    part.answer(`${kind}: closed`);
    return;
  }
  const v = checkHttp(a.status, a.body);
  part.answer(`${kind}: ${v.key}`);
  for (const p of v.problems) part.fail(p, caseId);
}

async function ordinaryRequests(url: string, part: PartResult, caseId: string): Promise<number> {
  let ok = 0;
  for (let i = 0; i < 10; i++) {
    try {
      const res = await fetch(`${url}/v2/models/add/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: ADD_BODY,
        signal: AbortSignal.timeout(ANSWER_BOUND_MS),
      });
      await res.arrayBuffer();
      part.answer(`ordinary: ${res.status}`);
      if (res.status === 200) ok += 1;
      else part.fail('ordinary client not served', caseId);
    } catch {
      part.answer('ordinary: no answer');
      part.fail('ordinary client not served', caseId);
    }
  }
  return ok;
}

async function stalledConnections(server: Inferd, part: PartResult): Promise<void> {
  const caseId = 'f3-slowloris-at-scale';
  const headerBound = TIMEOUTS.headersMs + TIMEOUT_SLACK_MS;
  const bodyBound = TIMEOUTS.bodyMs + TIMEOUT_SLACK_MS;
  const port = server.httpPort;
  const rss = sampleRss(server);
  const start = server.rssMiB() ?? 0;
  const live = probeLiveness(server, 250, 5_000);
  const slow = Array.from({ length: SIZES.slowConnections }, () =>
    rawRequest(port, Buffer.from('POST /v2/models/add/infer HTTP/1.1\r\nHost: x\r\n'), {
      timeoutMs: headerBound + 1000,
      pieces: Array.from({ length: 120 }, (_, i) => Buffer.from(`X-Slow-${i}: 1\r\n`)),
      pauseMs: 500,
    }),
  );
  const stalled = Array.from({ length: SIZES.slowConnections }, () =>
    rawRequest(
      port,
      httpBytes(
        'POST',
        '/v2/models/add/infer',
        [
          ['Content-Type', 'application/json'],
          ['Content-Length', '1000000'],
        ],
        Buffer.alloc(1000, 0x20),
      ),
      { timeoutMs: bodyBound + 1000 },
    ),
  );
  // One body buffer written to every upload after its head: a copy per upload (800 MB in the long
  // profile) starved this process for seconds, so its own clock, not the server, missed the bound.
  const uploadBody = Buffer.alloc(SIZES.stalledUploadBytes, 0x20);
  const uploads = Array.from({ length: SIZES.stalledUploads }, () =>
    rawRequest(
      port,
      httpBytes('POST', '/v2/models/add/infer', [
        ['Content-Type', 'application/json'],
        ['Content-Length', String(50 * 1024 * 1024)],
      ]),
      { timeoutMs: bodyBound + 1000, pieces: [uploadBody], pauseMs: 0 },
    ),
  );
  await new Promise((r) => setTimeout(r, 1000));
  const ok = await ordinaryRequests(server.url, part, caseId);
  for (const a of await Promise.all(slow)) judge(part, 'slow headers', a, headerBound, caseId);
  for (const a of await Promise.all(stalled)) judge(part, 'stalled body', a, bodyBound, caseId);
  for (const a of await Promise.all(uploads)) judge(part, 'stalled upload', a, bodyBound, caseId);
  const probed = await live.stop();
  await new Promise((r) => setTimeout(r, 1000));
  const { peak, last } = rss.stop();
  part.rss = { start, peak, end: last };
  if (probed.missed > 0 || probed.worstMs > LIVE_BOUND_MS) part.fail('frozen (liveness)', caseId);
  part.notes.push(
    `${SIZES.slowConnections} slow-header + ${SIZES.slowConnections} stalled-body connections and ${SIZES.stalledUploads} uploads stalled after ` +
      `${(SIZES.stalledUploadBytes / 1048576).toFixed(0)} MiB of 50 MiB; ordinary client ${ok}/10 served meanwhile; ` +
      `liveness worst ${probed.worstMs.toFixed(0)} ms; RSS peak +${(peak - start).toFixed(0)} MiB`,
  );
}

/**
 * More connections than the cap, all open at once, then one request on each: the ones beyond the
 * cap must be refused (503 too_many_connections with its code, or closed), none may hang, and once
 * they are gone a new client is served.
 */
async function connectionCap(server: Inferd, part: PartResult): Promise<void> {
  const caseId = 'f3-connection-cap';
  const n = TIMEOUTS.maxConnections + SIZES.capExcess;
  const sockets = await Promise.all(Array.from({ length: n }, () => openConnection(server.httpPort)));
  // Connected is not yet accepted: let the server take them all in before any request (an answered
  // request closes its connection here, which would make room below the cap again).
  await new Promise((r) => setTimeout(r, 500));
  const answers = await Promise.all(
    // Server metadata, not a health probe: probes and /metrics are answered beyond the cap on purpose
    // (a connection flood must not fail the orchestrator's checks).
    sockets.map((s) => exchange(s, httpBytes('GET', '/v2', []), { timeoutMs: ANSWER_BOUND_MS })),
  );
  let refused = 0;
  for (const a of answers) {
    if (a.hung) {
      part.answer('cap: hung');
      part.fail('hung', caseId);
    } else if (a.status === undefined) {
      part.answer('cap: closed');
      refused += 1;
    } else {
      const v = checkHttp(a.status, a.body);
      part.answer(`cap: ${v.key}`);
      for (const p of v.problems) part.fail(p, caseId);
      if (a.status === 503) refused += 1;
    }
  }
  if (refused < SIZES.capExcess) part.fail('no connection cap', caseId);
  await new Promise((r) => setTimeout(r, 500));
  const ok = await ordinaryRequests(server.url, part, caseId);
  part.notes.push(
    `connection cap ${TIMEOUTS.maxConnections}: ${refused} of ${n} simultaneous connections refused; afterwards ${ok}/10 ordinary requests served`,
  );
}

export async function slowloris(part: PartResult): Promise<void> {
  const repo = makeSuiteRepository({ amplify: false });
  const dataDir = mkdtempSync(join(tmpdir(), 'inferd-rel-slow-'));
  try {
    const server = await Inferd.start({
      args: ['--model-repository', repo, '--data-dir', dataDir, '--auth', 'off'],
      env: TRANSPORT_ENV,
    });
    try {
      await stalledConnections(server, part);
      await connectionCap(server, part);
      if (server.crashed) part.fail('crash');
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}
