/**
 * The graph rewrites (src/runtime/onnx/rewrite/) as an offline tool: writes the rewritten model and
 * reports, per pass, how many sites it changed, and the sizes. The server applies the same passes
 * at load from `onnxruntime.graph_rewrites`; this is for inspecting or shipping a rewritten file.
 *
 * Usage (after `npm run build`):
 *   node dist/scripts/onnx-rewrite.js <in.onnx> <out.onnx> [pass,pass,...]
 *   passes: hard-swish, affine-into-conv, scale-into-next-conv (default: these three, exact),
 *           opset-11, int8-conv, int8-matmul
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { FOLD_PASSES } from '../src/runtime/onnx/rewrite/fold.js';
import { REWRITE_PASSES, rewriteModel, type RewritePass } from '../src/runtime/onnx/rewrite/passes.js';

const [input, output, list] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: onnx-rewrite <in.onnx> <out.onnx> [pass,pass,...]');
  process.exit(2);
}
const passes = list ? list.split(',') : [...FOLD_PASSES];
const unknown = passes.filter((p) => !REWRITE_PASSES.includes(p as RewritePass));
if (unknown.length > 0) {
  console.error(`unknown pass ${unknown.join(', ')}; known: ${REWRITE_PASSES.join(', ')}`);
  process.exit(2);
}
const original = readFileSync(input);
const { model, changed } = rewriteModel(original, passes as RewritePass[]);
writeFileSync(output, model);
for (const [pass, n] of Object.entries(changed)) console.log(`${pass}: ${n} sites`);
console.log(
  `${input}: ${(original.length / 1e6).toFixed(2)} MB → ${output}: ${(model.length / 1e6).toFixed(2)} MB`,
);
