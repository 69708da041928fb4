// Naive baseline: what a developer writes first. fastify + onnxruntime-node, `session.run` per
// request on the main thread (the await yields while ORT computes on its own threads, but there is
// no queue, no batching, no bound). Same JSON OIP request/response shape as inferd, one model.
// Usage: node bench/baselines/naive.mjs --model M.onnx --name NAME --port P --threads 2
import Fastify from 'fastify';
import ort from 'onnxruntime-node';
import { flags, fromOrt, sessionOptions, toOrt } from './ort-io.mjs';

const f = flags(process.argv.slice(2), { port: '8090', threads: '2', name: 'model' });
const session = await ort.InferenceSession.create(f.model, sessionOptions(Number(f.threads)));
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });

app.get('/v2/health/ready', async () => ({}));
app.post(`/v2/models/${f.name}/infer`, async (req, reply) => {
  const body = req.body;
  if (!body || !Array.isArray(body.inputs)) return reply.code(400).send({ error: 'needs inputs' });
  const feeds = {};
  for (const input of body.inputs) feeds[input.name] = toOrt(input);
  const results = await session.run(feeds);
  const outputs = session.outputNames.map((name) => fromOrt(name, results[name]));
  const res = { model_name: f.name, model_version: '1', outputs };
  if (body.id !== undefined) res.id = body.id;
  return res;
});

await app.listen({ host: '127.0.0.1', port: Number(f.port) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
