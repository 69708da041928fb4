/**
 * Print this API key's usage for the current month.
 *   INFERD_URL=http://127.0.0.1:8080 INFERD_API_KEY=ik_live_… node dist/examples/usage.js
 */
import { InferdClient } from '../sdk/index.js';

const client = new InferdClient({
  apiKey: process.env.INFERD_API_KEY ?? '',
  baseUrl: process.env.INFERD_URL ?? 'http://127.0.0.1:8080',
});
const usage = await client.usage();
console.log(`key ${usage.key_id} (plan ${usage.plan}), ${usage.from} to ${usage.to}`);
for (const d of usage.days)
  console.log(`${d.day} ${d.model}: ${d.requests} requests, ${d.units} units, ${d.errors} errors`);
console.log(`total: ${usage.total.requests} requests, ${usage.total.units} units`);
