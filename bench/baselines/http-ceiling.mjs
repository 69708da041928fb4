// HTTP ceiling: fastify that parses the same JSON request body (fastify's JSON parser, as the naive
// server does) and answers a fixed response of the size inferd sends, with no inference. No server
// that speaks JSON over fastify on this machine can beat it; the gap to it is our own overhead.
// Usage: node bench/baselines/http-ceiling.mjs --name NAME --port P --response RESPONSE.json
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { flags } from './ort-io.mjs';

const f = flags(process.argv.slice(2), { port: '8091', name: 'model' });
// The exact bytes inferd answered for the same request (captured by bench/compare.mjs).
const response = readFileSync(f.response);
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });

app.get('/v2/health/ready', async () => ({}));
app.post(`/v2/models/${f.name}/infer`, async (req, reply) => {
  const body = req.body;
  // Touch the parsed inputs as a real handler would validate them.
  if (!body || !Array.isArray(body.inputs) || body.inputs.some((i) => typeof i.name !== 'string')) {
    return reply.code(400).send({ error: 'needs inputs' });
  }
  return reply.type('application/json').send(response);
});

await app.listen({ host: '127.0.0.1', port: Number(f.port) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
