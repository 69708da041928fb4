/** Human-readable rendering of a bench report (the `--json` form is the report object itself). */
import type { BenchReport, StepReport } from './run.js';

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function errorText(s: StepReport): string {
  const parts = Object.entries(s.errors).map(([k, n]) => `${k}: ${n}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}

function serverText(s: StepReport): string {
  if (!s.server) return 'n/a';
  const v = s.server;
  return `queue ${v.avgQueueUs.toFixed(0)} µs, compute ${v.avgComputeUs.toFixed(0)} µs, batch ${v.avgBatch.toFixed(2)}`;
}

export function formatReport(r: BenchReport): string {
  const shapes = r.request.map((t) => `${t.name} ${t.datatype} [${t.shape.join(',')}]`).join('; ');
  const lines = [
    `inferd bench: ${r.model} at ${r.url} over ${r.transport}`,
    `request: ${shapes}${r.requestCount > 1 ? ` (first of ${r.requestCount}, sent round-robin)` : ''}`,
    '',
    '| load | req/s | p50 ms | p90 ms | p99 ms | ok | errors | server (avg per request) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of r.steps) {
    const load = s.mode === 'rate' ? `rate ${s.load}/s` : `c=${s.load}`;
    lines.push(
      `| ${load} | ${s.throughput.toFixed(0)} | ${ms(s.latencyMs.p50)} | ${ms(s.latencyMs.p90)} | ` +
        `${ms(s.latencyMs.p99)} | ${s.ok}/${s.sent} | ${errorText(s)} | ${serverText(s)} |`,
    );
  }
  const refused = r.steps.filter((s) => s.refusalMs.count > 0);
  for (const s of refused) {
    lines.push(
      `refusals at ${s.mode === 'rate' ? `rate ${s.load}/s` : `c=${s.load}`}: ${s.refusalMs.count}, ` +
        `p50 ${ms(s.refusalMs.p50)} ms, p99 ${ms(s.refusalMs.p99)} ms ` +
        `(from actual send: p50 ${ms(s.refusalFromSendMs.p50)} ms, p99 ${ms(s.refusalFromSendMs.p99)} ms)`,
    );
  }
  for (const s of r.steps) {
    if (s.sendLagMs) {
      lines.push(
        `send lag at rate ${s.load}/s (client behind schedule): p50 ${ms(s.sendLagMs.p50)} ms, p99 ${ms(s.sendLagMs.p99)} ms`,
      );
    }
  }
  return lines.join('\n') + '\n';
}
