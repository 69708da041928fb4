// Served OCR pages/s for config variants of the shipped OCR models, side by side: one server per variant, all
// loaded at once, alternating cells at concurrency 1 and 4 on the 1280×960 page; prints median and per-round pages/s.
// Usage: npm run build && node bench/ocr/served-variants.mjs ROUNDS PAGES '{"name": {"ocr-rec": {"instance_group": [{"count": 2}]}}}'
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer } from '../../dist/test/helpers/server.js';
import { inferOverHttp, makeOcrRepository } from '../../dist/test/ocr/helpers/repo.js';
import { renderDocument } from '../../dist/bench/ocr/document.js';
const rounds = Number(process.argv[2] ?? 3),
  perCell = Number(process.argv[3] ?? 6);
const variants = JSON.parse(process.argv[4]); // {name: {model: {field: value}}}
const servers = {};
for (const [name, patch] of Object.entries(variants)) {
  const repo = makeOcrRepository();
  for (const [model, fields] of Object.entries(patch)) {
    const f = join(repo.dir, model, 'config.json');
    const cfg = JSON.parse(readFileSync(f, 'utf8'));
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'onnxruntime') cfg.onnxruntime = { ...cfg.onnxruntime, ...v };
      else cfg[k] = v;
    }
    writeFileSync(f, JSON.stringify(cfg));
  }
  servers[name] = await startTestServer(repo.dir);
}
const image = await renderDocument();
const read = async (url) => {
  const r = await inferOverHttp(url, image);
  if (r.status !== 200) throw new Error(String(r.status));
};
for (const s of Object.values(servers)) for (let i = 0; i < 2; i++) await read(s.httpUrl);
const res = {};
const names = Object.keys(servers);
for (let r = 0; r < rounds; r++)
  for (const c of [1, 4])
    for (const n of r % 2 ? [...names].reverse() : names) {
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: c }, async () => {
          while (next < perCell) {
            next++;
            await read(servers[n].httpUrl);
          }
        }),
      );
      (res[`${n} c=${c}`] ??= []).push(perCell / ((performance.now() - t0) / 1000));
    }
const med = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
for (const [k, v] of Object.entries(res))
  console.log(k.padEnd(24), med(v).toFixed(2), v.map((x) => x.toFixed(2)).join(' '));
for (const s of Object.values(servers)) await s.close();
process.exit(0);
