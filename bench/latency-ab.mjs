// Concurrency-1 latency of several servers, interleaved: one keep-alive connection per server, the
// client cycles over them in slices of `slice` ms for `total` s, so that the host's drift (2× swings
// on the 2-core bench machine) falls on every server alike. Prints p50/p90/p99 per server and the
// median of the per-slice p50s. Raw sockets, one request in flight: the client costs a few µs.
// Usage: node bench/latency-ab.mjs TOTAL_S SLICE_MS PORT... (env BODY=file, P=/path; defaults: the
// spam message of bench/fast-defaults.mjs to /v2/models/spam/infer)
import net from 'node:net';
import { readFileSync } from 'node:fs';

const [total = '20', slice = '300', ...ports] = process.argv.slice(2);
if (ports.length === 0) throw new Error('usage: node bench/latency-ab.mjs TOTAL_S SLICE_MS PORT...');
const body = process.env.BODY
  ? readFileSync(process.env.BODY)
  : Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'text',
            shape: [1],
            datatype: 'BYTES',
            data: ['WINNER! Claim your free prize now, reply YES'],
          },
        ],
      }),
    );
const path = process.env.P ?? '/v2/models/spam/infer';
const request = Buffer.concat([
  Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
  ),
  body,
]);

const connect = (port) =>
  new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });

/** One request on `s`, resolved with its latency in ms once the whole answer is in. */
function once(s) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const t0 = performance.now();
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const h = buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const head = buf.subarray(0, h).toString('latin1');
      const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? NaN);
      if (!/^HTTP\/1\.1 200/.test(head)) reject(new Error(`answer: ${head.split('\r\n')[0]}`));
      if (buf.length < h + 4 + len) return;
      s.off('data', onData);
      resolve(performance.now() - t0);
    };
    s.on('data', onData);
    s.write(request);
  });
}

const conns = Object.fromEntries(await Promise.all(ports.map(async (p) => [p, await connect(p)])));
const all = Object.fromEntries(ports.map((p) => [p, []]));
const sliceP50 = Object.fromEntries(ports.map((p) => [p, []]));
const end = performance.now() + Number(total) * 1000;
for (let i = 0; performance.now() < end; i++) {
  const p = ports[i % ports.length];
  const until = performance.now() + Number(slice);
  const here = [];
  while (performance.now() < until) here.push(await once(conns[p]));
  all[p].push(...here);
  here.sort((a, b) => a - b);
  sliceP50[p].push(here[here.length >> 1]);
}
const us = (ms) => (ms * 1000).toFixed(0);
for (const p of ports) {
  const a = all[p].sort((x, y) => x - y);
  const q = (f) => us(a[Math.floor(f * (a.length - 1))]);
  const m = sliceP50[p].sort((x, y) => x - y);
  console.log(
    `port ${p}: n=${a.length} p50 ${q(0.5)} µs, p90 ${q(0.9)}, p99 ${q(0.99)}; median of slice p50s ${us(m[m.length >> 1])} µs`,
  );
}
for (const s of Object.values(conns)) s.end();
