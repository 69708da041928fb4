/**
 * The committed corpus: one or more regression cases for every finding of issue 23 (1–12 and the
 * low ones), in the order the runner replays them. docs/reliability.md lists them by finding.
 * Finding 3 at scale (connection cap, many stalled uploads) is parts/slowloris.ts; 503s without a
 * code during shutdown are parts/crash.ts.
 */
import type { CorpusCase } from './case.js';
import { ACCESS_CASES } from './access.js';
import { DECODER_CASES } from './decoders.js';
import { LOW_CASES } from './low.js';
import { PIPELINE_CASES } from './pipelines.js';
import { TRANSPORT_CASES } from './transport.js';

export const CASES: CorpusCase[] = [
  ...ACCESS_CASES,
  ...TRANSPORT_CASES,
  ...LOW_CASES,
  ...PIPELINE_CASES,
  ...DECODER_CASES,
];
