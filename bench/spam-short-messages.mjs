// Short-message behaviour of spam models, side by side (bench/results/spam-short-messages.md):
//   node bench/spam-short-messages.mjs MODEL.onnx [MODEL.onnx …]
// For each suite (the CheckList short-messages suite and the development set used to choose the
// evidence pseudo-count), per model: failures among ham and spam, then every message's P(spam).
// Needs `npm run build` (reads dist/).
import { readFileSync } from 'node:fs';
import { openModel, scoreTexts } from '../dist/src/training/spam/score.js';

const SUITES = ['models/spam/checklist/short-messages.json', 'bench/spam-short-dev.json'];
const models = process.argv.slice(2);
if (models.length === 0) {
  process.stderr.write('usage: node bench/spam-short-messages.mjs MODEL.onnx [MODEL.onnx …]\n');
  process.exit(2);
}
const sessions = await Promise.all(models.map((m) => openModel(m)));
for (const path of SUITES) {
  const suite = JSON.parse(readFileSync(path, 'utf8'));
  const texts = suite.tests.map((t) => t.text);
  const scores = await Promise.all(sessions.map((s) => scoreTexts(s, texts)));
  console.log(`\n## ${path} (${texts.length} messages)\n`);
  console.log(`| model | ham wrongly spam | spam missed | failures |\n|---|---|---|---|`);
  models.forEach((m, j) => {
    const wrong = { ham: 0, spam: 0 };
    const total = { ham: 0, spam: 0 };
    suite.tests.forEach((t, i) => {
      total[t.expect]++;
      if (scores[j].label[i] !== t.expect) wrong[t.expect]++;
    });
    console.log(
      `| ${m} | ${wrong.ham}/${total.ham} | ${wrong.spam}/${total.spam} | ${wrong.ham + wrong.spam}/${texts.length} |`,
    );
  });
  console.log(`\n| expect | ${models.map((_, j) => `P(spam) #${j + 1}`).join(' | ')} | text |`);
  console.log(`|---|${models.map(() => '---|').join('')}---|`);
  suite.tests.forEach((t, i) => {
    const cells = scores.map((s) => `${s.probability[i].toFixed(3)}${s.label[i] === t.expect ? '' : ' ✗'}`);
    console.log(
      `| ${t.expect} | ${cells.join(' | ')} | ${JSON.stringify(t.text).slice(1, -1).replace(/\|/g, '\\|')} |`,
    );
  });
}
await Promise.all(sessions.map((s) => s.release()));
