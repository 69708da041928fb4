/**
 * Fixed messages for the golden-output test, and the regenerator for golden.json:
 *   npm run build && node dist/test/spam/golden-messages.js
 * Regenerate ONLY when the committed model is retrained on purpose (review the diff).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModel, scoreTexts } from '../../src/training/spam/score.js';
import { SPAM_MODEL, TEST_DATA } from './helpers.js';

export const GOLDEN_MESSAGES: readonly string[] = [
  '',
  'hello',
  'Subject: Re: kernel compile problem\n\nyou need to run make dep first after changing the config.',
  'Subject: FREE VIAGRA!!!\n\nBuy now at 80% off, no prescription needed. Click here http://cheap-rx.biz/order',
  'From: "Claims" <claims@lotto-award.com>\nSubject: YOU HAVE WON $1,000,000\n\nSend your bank details to claim your prize.',
  'From: Sarah <sarah@example.org>\nTo: Tom <tom@example.org>\nSubject: notes\n\nHi Tom, notes from the meeting attached.\n\nSarah',
  'Content-Type: text/html; charset=gb2312\n\n\u4f60\u597d \u7279\u4ef7 http://www.example.cn',
  'Grüße aus Köln! Schöne Ferien wünscht Anna.\r\nBis bald.',
  'word '.repeat(5000),
  '<html><body><a href="http://x.biz">CLICK HERE</a> &nbsp; $$$ MAKE MONEY $$$</body></html>',
];

export interface GoldenEntry {
  text: string;
  probability: number;
  label: string;
}

export const GOLDEN_PATH = join(TEST_DATA, 'golden.json');

async function regenerate(): Promise<void> {
  const s = await openModel(SPAM_MODEL);
  const r = await scoreTexts(s, GOLDEN_MESSAGES, 1);
  const entries: GoldenEntry[] = GOLDEN_MESSAGES.map((text, i) => ({
    text,
    probability: r.probability[i] as number,
    label: r.label[i] as string,
  }));
  writeFileSync(GOLDEN_PATH, `${JSON.stringify({ model: 'models/spam/1/model.onnx', entries }, null, 2)}\n`);
  await s.release();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await regenerate();
