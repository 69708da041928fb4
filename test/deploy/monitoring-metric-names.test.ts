/**
 * Every metric and label that the Grafana dashboard, the KEDA ScaledObjects, the HPA and the
 * prometheus-adapter rule query exists in what inferd actually serves on /metrics: a real server
 * over a fixture model, after a successful and a failed request, scraped as Prometheus does. A
 * renamed metric or label fails here instead of leaving a silent panel or an autoscaler at zero.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

/** Labels Prometheus adds to every scraped series from its target (Prometheus Operator's relabeling). */
const TARGET_LABELS = new Set(['namespace', 'pod', 'service', 'job', 'instance', 'container', 'endpoint']);

/** Sample name → the label names seen on it, from the text exposition format. */
function exposition(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = out.get(m[1]!) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1]!);
    out.set(m[1]!, labels);
  }
  return out;
}

/** Where each query comes from, for messages, and its PromQL (or metric name). */
function allQueries(): { where: string; query: string }[] {
  const out: { where: string; query: string }[] = [];
  const dash = JSON.parse(readFileSync('deploy/kubernetes/monitoring/grafana-dashboard.json', 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
    templating: { list: { name: string; query?: { query?: string } }[] };
  };
  for (const p of dash.panels)
    for (const t of p.targets) out.push({ where: `dashboard: ${p.title}`, query: t.expr });
  for (const v of dash.templating.list) {
    if (v.query?.query) out.push({ where: `dashboard variable ${v.name}`, query: v.query.query });
  }
  for (const file of [
    'deploy/kubernetes/autoscaling/keda-scaledobject.yaml',
    'deploy/kserve/spam-standard-scaledobject.yaml',
  ]) {
    const so = parse(readFileSync(file, 'utf8')) as { spec: { triggers: { metadata: { query: string } }[] } };
    for (const t of so.spec.triggers) out.push({ where: file, query: t.metadata.query });
  }
  const hpa = parse(readFileSync('deploy/kubernetes/autoscaling/hpa.yaml', 'utf8')) as {
    spec: {
      metrics: { pods: { metric: { name: string; selector: { matchLabels: Record<string, string> } } } }[];
    };
  };
  for (const m of hpa.spec.metrics) {
    // The adapter turns the selector into label matchers on the series: the same check.
    const sel = Object.entries(m.pods.metric.selector.matchLabels).map(([k, v]) => `${k}="${v}"`);
    out.push({ where: 'hpa.yaml', query: `${m.pods.metric.name}{${sel.join(',')}}` });
  }
  const adapter = parse(
    readFileSync('deploy/kubernetes/autoscaling/prometheus-adapter-values.yaml', 'utf8'),
  ) as {
    rules: { custom: { seriesQuery: string; name: { as: string } }[] };
  };
  for (const r of adapter.rules.custom) {
    out.push({ where: 'prometheus-adapter rule', query: r.seriesQuery });
    out.push({ where: 'prometheus-adapter rule name', query: r.name.as });
  }
  return out;
}

/** Problems of one query against the exposition: unknown metric names and label names. */
function queryProblems(query: string, exposed: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const names = [...new Set([...query.matchAll(/\binferd_[a-z0-9_]+/g)].map((m) => m[0]))];
  if (names.length === 0) problems.push('names no inferd metric');
  const known = new Set(TARGET_LABELS);
  for (const n of names) {
    const labels = exposed.get(n);
    if (!labels) problems.push(`${n} is not in /metrics`);
    for (const l of labels ?? []) known.add(l);
  }
  // Label matchers in selectors, label lists of by/without, and label_values(metric, label).
  const used = new Set<string>();
  for (const sel of query.matchAll(/\{([^}]*)\}/g)) {
    for (const l of sel[1]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) used.add(l[1]!);
  }
  for (const grp of query.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const l of grp[1]!.split(',')) if (l.trim()) used.add(l.trim());
  }
  for (const lv of query.matchAll(/label_values\([^,]*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\)/g)) used.add(lv[1]!);
  for (const l of used) if (!known.has(l)) problems.push(`label ${l} is on none of ${names.join(', ')}`);
  return problems;
}

describe('metric names in dashboards and autoscalers match /metrics', () => {
  let repo: string;
  let server: RunningServer;
  let exposed: Map<string, Set<string>>;

  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo);
    const infer = (body: unknown): Promise<Response> =>
      fetch(`${server.httpUrl}/v2/models/add/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const ok = await infer({
      inputs: [
        { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
        { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
      ],
    });
    assert.equal(ok.status, 200);
    // A request the model refuses (wrong shape): the failure counter gets its reason label.
    const bad = await infer({
      inputs: [
        { name: 'a', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] },
        { name: 'b', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] },
      ],
    });
    assert.equal(bad.status, 400);
    exposed = exposition(await (await fetch(`${server.httpUrl}/metrics`)).text());
  });
  after(async () => {
    await server?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('the scrape holds the series the autoscalers and the dashboard read, with their labels', () => {
    for (const [name, labels] of [
      ['inferd_pending_requests', ['model', 'version']],
      ['inferd_request_failure_total', ['model', 'version', 'reason']],
      ['inferd_model_state', ['model', 'version', 'state']],
      ['inferd_request_duration_seconds_bucket', ['model', 'version', 'le']],
    ] as const) {
      assert.deepEqual([...(exposed.get(name) ?? [])].sort(), [...labels].sort(), name);
    }
  });

  it('every query of the dashboard, KEDA, the HPA and the adapter names real metrics and labels', () => {
    const queries = allQueries();
    assert.ok(queries.length >= 12, `${queries.length} queries found`);
    const problems = queries.flatMap(({ where, query }) =>
      queryProblems(query, exposed).map((p) => `${where}: ${p} (${query})`),
    );
    assert.deepEqual(problems, []);
  });

  it('the check catches a renamed metric and a label the server does not have', () => {
    assert.deepEqual(queryProblems('sum(inferd_pending_request{model="spam"})', exposed), [
      'inferd_pending_request is not in /metrics',
      'label model is on none of inferd_pending_request',
    ]);
    assert.deepEqual(queryProblems('sum by (model_name) (inferd_pending_requests)', exposed), [
      'label model_name is on none of inferd_pending_requests',
    ]);
    assert.deepEqual(queryProblems('sum(inferd_pending_requests{pod=~"x-.*"})', exposed), []);
  });
});
