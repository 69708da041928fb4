/**
 * The reliability suite (issue 23; docs/reliability.md): the corpus of every finding, image bombs,
 * property-based fuzzing of the three decoders, the 10× overload soak, version reloads under load,
 * SIGTERM and kill -9 under metered load, slowloris and stalled bodies, all against `inferd serve`
 * child processes on loopback. RELIABILITY_PROFILE=short (the default, inside `npm test`) or long
 * (`npm run test:reliability`). Every run writes its results table (lib/results.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CASES } from './corpus/index.js';
import { IMAGE_CASE_IDS } from './corpus/pipelines.js';
import { Results, type PartResult } from './lib/results.js';
import { AttackServer } from './parts/attack-server.js';
import { runCases, verdictTable, type CaseVerdict } from './parts/corpus.js';
import { MeteredRig, meteredSignal } from './parts/crash.js';
import { FuzzServer, fuzzGrpc, fuzzRestBinary, fuzzRestJson } from './parts/fuzz.js';
import { reloadsUnderLoad } from './parts/reloads.js';
import { slowloris } from './parts/slowloris.js';
import { overloadSoak, SoakServer } from './parts/soak.js';
import { PROFILE, RSS_GROWTH_LIMIT, SIZES } from './settings.js';

const results = new Results();

/** Runs a part into its table row; the row's own failures fail the test (pending ones do not). */
async function part(name: string, run: (p: PartResult) => Promise<void>): Promise<void> {
  const p = results.part(name);
  try {
    await run(p);
  } finally {
    p.finish();
  }
  assert.deepEqual(p.failures, {}, `${name}: ${p.notes.join(' | ')}`);
}

describe(`reliability suite (${PROFILE} profile)`, { concurrency: 1 }, () => {
  after(() => {
    const file = results.write();
    process.stdout.write(`# reliability results (${PROFILE}): ${file}\n`);
  });

  describe('attack server: the corpus of issue 23 and image bombs', () => {
    let attack: AttackServer;
    const verdicts: CaseVerdict[] = [];
    before(async () => {
      attack = await AttackServer.start();
    });
    after(async () => {
      await attack?.close();
      results.sections.push({ title: 'Corpus cases', body: verdictTable(verdicts) });
    });

    it('every finding replays with its expected answer, the server live throughout', async () => {
      await part('corpus (findings 1–12, low)', async (p) => {
        verdicts.push(
          ...(await runCases(
            attack,
            CASES.filter((c) => !IMAGE_CASE_IDS.has(c.id)),
            p,
          )),
        );
        if (attack.starts > 1) p.notes.push(`attack server restarted ${attack.starts - 1} times`);
      });
    });

    it('image bombs against the OCR model are refused quickly', async () => {
      await part('image bombs (OCR)', async (p) => {
        verdicts.push(
          ...(await runCases(
            attack,
            CASES.filter((c) => IMAGE_CASE_IDS.has(c.id)),
            p,
          )),
        );
      });
    });
  });

  describe('fuzzing the decoders through the server (fast-check)', () => {
    let fuzz: FuzzServer;
    before(async () => {
      fuzz = await FuzzServer.start();
    });
    after(async () => fuzz?.close());

    it('REST JSON: every answer well-formed, server live', async () => {
      await part('fuzz: REST JSON', (p) => fuzzRestJson(fuzz, p));
    });
    it('REST binary extension: every answer well-formed, server live', async () => {
      await part('fuzz: REST binary', (p) => fuzzRestBinary(fuzz, p));
    });
    it('gRPC: every status well-formed, server live', async () => {
      await part('fuzz: gRPC', (p) => fuzzGrpc(fuzz, p));
    });
  });

  describe('soak server', () => {
    let soak: SoakServer;
    before(async () => {
      soak = await SoakServer.start();
    });
    after(async () => soak?.close());

    it(`10× overload for ${SIZES.soakS} s: only documented refusals, RSS within +${RSS_GROWTH_LIMIT * 100}%`, async () => {
      await part(`soak: 10× overload, ${SIZES.soakS} s`, (p) => overloadSoak(soak, p));
    });
    it(`${SIZES.reloads} version reloads under load lose no request`, async () => {
      await part(`${SIZES.reloads} version reloads under load`, (p) => reloadsUnderLoad(soak, p));
    });
  });

  describe('metered load (/v1, SQLite store)', () => {
    let rig: MeteredRig;
    before(() => {
      rig = MeteredRig.create();
    });
    after(() => rig?.close());

    it('SIGTERM: in-flight requests finish, 0 acknowledged records lost', async () => {
      await part('SIGTERM under metered load', (p) => meteredSignal(rig, 'SIGTERM', p));
    });
    it('kill -9: 0 acknowledged records lost', async () => {
      await part('kill -9 under metered load', (p) => meteredSignal(rig, 'SIGKILL', p));
    });
  });

  it('slowloris, stalled bodies and the connection cap', async () => {
    await part('slowloris, stalled bodies, connection cap', slowloris);
  });

  it('acceptance: 0 crashes, 0 hung, RSS within +20% after the soak, 0 records lost, every 4xx with a code', () => {
    const t = results.totals();
    assert.equal(t.crashes, 0, 'crashes');
    assert.equal(t.hung, 0, 'hung requests');
    assert.equal(t.lost, 0, 'acknowledged usage records lost');
    assert.equal(t.noCode, 0, '4xx without a code');
    for (const r of results.rssVerdicts())
      assert.ok(r.ok, `RSS after ${r.part}: ${r.rss.start} → ${r.rss.end} MiB`);
  });
});
