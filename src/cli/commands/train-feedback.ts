/**
 * `inferd train spam --with-feedback`: reads the spam model's feedback from the store the server
 * uses (`--data-dir` for SQLite, `--database-url` for PostgreSQL, or their INFERD_* variables) and
 * turns each correction with a kept input into a training row. Feedback without a kept input (the
 * key's plan did not opt in to `keepInputs`) cannot be trained on and is counted, not used.
 */
import { loadSettings } from '../../config.js';
import { openStore } from '../../gateway/store/open.js';
import type { FeedbackRow } from '../../training/spam/feedback.js';

/** Most corrections read per training run (oldest first), so a run's memory stays bounded. */
const MAX_FEEDBACK_ROWS = 100_000;

/** The spam model's labels (models/spam/config.json `labels`) as training's 0/1. */
const LABELS: Record<string, 0 | 1> = { ham: 0, spam: 1 };

export interface FeedbackStoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  databaseSchema?: string;
}

export interface FeedbackRead {
  rows: FeedbackRow[];
  /** Feedback rows read but not usable (no label, or no text in the kept input). */
  skipped: number;
}

export async function readSpamFeedback(flags: FeedbackStoreFlags): Promise<FeedbackRead> {
  const s = loadSettings({
    dataDir: flags.dataDir,
    databaseUrl: flags.databaseUrl,
    databaseSchema: flags.databaseSchema,
  });
  const store = await openStore({
    dataDir: s.dataDir,
    databaseUrl: s.databaseUrl,
    databaseSchema: s.databaseSchema,
  });
  try {
    const examples = await store.feedbackExamples('spam', MAX_FEEDBACK_ROWS);
    const rows: FeedbackRow[] = [];
    for (const e of examples) {
      const label = e.label === null ? undefined : LABELS[e.label];
      let text: unknown;
      try {
        text = (JSON.parse(e.input) as { text?: unknown }).text;
      } catch {
        text = undefined;
      }
      if (label !== undefined && typeof text === 'string')
        rows.push({ id: `${e.keyId}/${e.requestId}`, text, label });
    }
    return { rows, skipped: examples.length - rows.length };
  } finally {
    await store.close();
  }
}
