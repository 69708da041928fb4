/**
 * The HPA alternative: deploy/kubernetes/autoscaling/hpa.yaml passes the Kubernetes
 * autoscaling/v2 schema (kubernetes-models), scales only on the custom Pods metric
 * inferd_pending_requests with the same per-replica targets as KEDA, and the prometheus-adapter
 * rule serves exactly that metric per pod and namespace.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { parse } from 'yaml';
import { pendingTarget, QUEUE_METRIC } from './autoscaling-targets.js';

const DIR = 'deploy/kubernetes/autoscaling';

interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

const hpaRaw = (): Record<string, unknown> =>
  parse(readFileSync(`${DIR}/hpa.yaml`, 'utf8')) as Record<string, unknown>;

describe('HPA on a custom metric (prometheus-adapter)', () => {
  it('hpa.yaml passes the Kubernetes autoscaling/v2 schema', () => {
    new HorizontalPodAutoscaler(hpaRaw() as never).validate();
  });

  it('the schema check refuses a wrong type and a missing target', () => {
    const bad = hpaRaw() as { spec: Record<string, unknown> };
    bad.spec.maxReplicas = 'ten';
    assert.throws(() => new HorizontalPodAutoscaler(bad as never).validate(), /maxReplicas/);
    const bad2 = hpaRaw() as { spec: { metrics: { pods: Record<string, unknown> }[] } };
    delete bad2.spec.metrics[0]!.pods.target;
    assert.throws(() => new HorizontalPodAutoscaler(bad2 as never).validate(), /target/);
  });

  it('scales only on inferd_pending_requests per pod, at the same targets as KEDA', () => {
    const hpa = new HorizontalPodAutoscaler(hpaRaw() as never);
    assert.deepEqual(hpa.spec!.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'inferd' });
    assert.ok((hpa.spec!.minReplicas ?? 1) >= 1);
    const metrics = hpa.spec!.metrics ?? [];
    assert.ok(metrics.length >= 1);
    const models: string[] = [];
    for (const m of metrics) {
      assert.equal(m.type, 'Pods', 'a custom per-pod metric; never Resource (cpu, memory)');
      assert.equal(m.pods!.metric.name, QUEUE_METRIC);
      const model = m.pods!.metric.selector?.matchLabels?.model;
      assert.ok(model, 'one model per metric');
      models.push(model);
      assert.equal(m.pods!.target.type, 'AverageValue');
      assert.equal(Number(m.pods!.target.averageValue), pendingTarget(model), model);
    }
    assert.deepEqual(models.sort(), ['ocr', 'spam']);
  });

  it('the prometheus-adapter rule serves that metric per pod, summing its versions', () => {
    const values = parse(readFileSync(`${DIR}/prometheus-adapter-values.yaml`, 'utf8')) as {
      rules: { default: boolean; custom: AdapterRule[] };
    };
    assert.equal(values.rules.default, false, 'only the rules inferd needs');
    const [rule] = values.rules.custom;
    assert.equal(values.rules.custom.length, 1);
    assert.match(rule!.seriesQuery, new RegExp(`^'?${QUEUE_METRIC}\\{`));
    assert.equal(rule!.name.as, QUEUE_METRIC);
    assert.ok(new RegExp(rule!.name.matches).test(QUEUE_METRIC));
    assert.deepEqual(rule!.resources.overrides, {
      namespace: { resource: 'namespace' },
      pod: { resource: 'pod' },
    });
    for (const part of ['<<.Series>>', '<<.LabelMatchers>>', '<<.GroupBy>>']) {
      assert.ok(rule!.metricsQuery.includes(part), `metricsQuery uses ${part}`);
    }
    assert.match(rule!.metricsQuery, /^sum\(/);
  });
});
