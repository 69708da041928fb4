/**
 * SIGTERM and kill -9 under metered load: 8 callers keep POST /v1/models/spam/predict busy with a
 * key made by `inferd keys create` (SQLite store), then the server gets the signal. Afterwards the
 * store is opened and its usage records for the key are counted against the 2xx answers the
 * callers received: an acknowledged call without its record is lost (must be 0 either way).
 * On SIGTERM, requests already sent finish, later ones get 503 server_draining with its code, and
 * the process exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../src/gateway/store/sqlite.js';
import { checkHttp } from '../lib/answers.js';
import { Inferd } from '../lib/inferd.js';
import { createKey } from '../lib/keys.js';
import { makeSuiteRepository } from '../lib/repo.js';
import type { PartResult } from '../lib/results.js';
import { ANSWER_BOUND_MS, keyHeader, SIZES } from '../settings.js';

const CALLERS = 8;
/** A request sent this long before the signal was in flight: SIGTERM must finish it. */
const IN_FLIGHT_MARGIN_MS = 50;
const SHUTDOWN_TIMEOUT_MS = 10_000;

interface Call {
  sentAt: number;
  status?: number;
  body?: Buffer;
  error?: string;
}

async function call(url: string, key: string, i: number): Promise<Call> {
  const sentAt = performance.now();
  try {
    const res = await fetch(`${url}/v1/models/spam/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [keyHeader(key).name]: keyHeader(key).value },
      body: JSON.stringify({ text: i % 3 === 0 ? 'buy now' : `message ${i}` }),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    // Acknowledged = the whole answer was received.
    return { sentAt, status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    return { sentAt, error: e.name === 'TimeoutError' ? 'timeout' : (e.cause?.code ?? e.name ?? 'error') };
  }
}

/** One data dir, key and repository for both signals (a key costs a CLI start). */
export class MeteredRig {
  private constructor(
    readonly repo: string,
    readonly dataDir: string,
    readonly key: string,
    readonly keyId: string,
  ) {}

  static create(): MeteredRig {
    const repo = makeSuiteRepository({ only: ['spam'] });
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-rel-crash-'));
    const { key, id } = createKey(dataDir, 'metered');
    return new MeteredRig(repo, dataDir, key, id);
  }

  close(): void {
    rmSync(this.repo, { recursive: true, force: true });
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function meteredSignal(
  rig: MeteredRig,
  signal: 'SIGTERM' | 'SIGKILL',
  part: PartResult,
): Promise<void> {
  const { repo, dataDir, key, keyId: id } = rig;
  const phaseStart = Date.now();
  const server = await Inferd.start({
    args: [
      '--model-repository',
      repo,
      '--data-dir',
      dataDir,
      '--auth',
      'on',
      '--shutdown-timeout-ms',
      String(SHUTDOWN_TIMEOUT_MS),
    ],
  });
  const calls: Call[] = [];
  let signalAt = Infinity;
  let n = 0;
  const caller = async (): Promise<void> => {
    // Until the process is gone and the callers have seen it.
    while (!server.ended || performance.now() < signalAt + 200) {
      const c = await call(server.url, key, n++);
      calls.push(c);
      if (c.error && server.ended) return;
      if (performance.now() > signalAt + SHUTDOWN_TIMEOUT_MS + 5_000) return;
    }
  };
  const callers = Array.from({ length: CALLERS }, caller);
  await new Promise((r) => setTimeout(r, SIZES.meteredS * 1000));
  signalAt = performance.now();
  server.stopping = true;
  server.proc.kill(signal);
  const exit = await Promise.race([
    server.exited().then(() => server.ended),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), SHUTDOWN_TIMEOUT_MS + 10_000)),
  ]);
  if (!exit) {
    part.fail('hung');
    part.notes.push(`${signal}: the process did not exit; killed`);
    server.proc.kill('SIGKILL');
    await server.exited();
  } else if (signal === 'SIGTERM' && exit.code !== 0) {
    part.fail('unclean shutdown');
    part.notes.push(`SIGTERM: exit ${JSON.stringify(exit)}`);
  }
  await Promise.all(callers);

  let acked = 0;
  for (const c of calls) {
    if (c.status !== undefined) {
      const v = checkHttp(c.status, c.body ?? Buffer.alloc(0));
      part.answer(v.key);
      if (c.status >= 200 && c.status < 300) acked += 1;
      else if (!(c.status === 503 && v.code === 'server_draining')) {
        // A 503 without our code while draining is the low finding "one error shape everywhere".
        const owner = c.status === 503 ? 'low-shutdown-503-code' : undefined;
        for (const p of v.problems) part.fail(p, owner);
        if (v.problems.length === 0) part.fail(`unexpected ${v.key}`);
      }
    } else if (c.error === 'timeout') {
      part.answer('hung');
      part.fail('hung');
    } else if (signal === 'SIGTERM' && c.sentAt < signalAt - IN_FLIGHT_MARGIN_MS) {
      part.answer(`network ${c.error}`);
      part.fail('in-flight request dropped on SIGTERM');
    } else {
      part.answer(`network ${c.error} (after the signal)`);
    }
  }
  const store = new SqliteStore(join(dataDir, 'inferd.db'));
  const records = await store.usageRecords({ keyId: id, from: phaseStart });
  await store.close();
  const recorded = records.filter((r) => r.status >= 200 && r.status < 300).length;
  const lost = Math.max(0, acked - recorded);
  part.lost = (part.lost ?? 0) + lost;
  part.notes.push(
    `${signal} after ${SIZES.meteredS} s of load: ${acked} acknowledged 2xx, ${recorded} usage records with 2xx, ${lost} lost; exit ${JSON.stringify(exit ?? 'none')}`,
  );
}
