/**
 * Every KEDA ScaledObject of deploy/ passes KEDA's own CRD schema (unknown fields refused), scales
 * on inferd's queue depth through Prometheus and never on CPU or memory, and asks per replica for
 * the target derived from the model's batching config (autoscaling-targets.ts). The metric names
 * in the queries are checked against the server's /metrics in monitoring-metric-names.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { pendingTarget, QUEUE_METRIC } from './autoscaling-targets.js';
import { crdValidator } from './kserve-crd-schema.js';

const KEDA_CRD = 'deploy/kubernetes/autoscaling/schemas/keda/keda.sh_scaledobjects.yaml';
const SCALED_OBJECTS = [
  'deploy/kubernetes/autoscaling/keda-scaledobject.yaml',
  'deploy/kserve/spam-standard-scaledobject.yaml',
];

interface Trigger {
  type: string;
  name?: string;
  metricType?: string;
  metadata: Record<string, string>;
}
interface ScaledObject {
  metadata: { name: string };
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    triggers: Trigger[];
  };
}

const load = (file: string): ScaledObject => parse(readFileSync(file, 'utf8')) as ScaledObject;
const validate = crdValidator(KEDA_CRD, 'keda.sh', 'ScaledObject', 'v1alpha1');

/** The one model a query selects (`model="spam"`). */
function queriedModel(query: string): string {
  const m = /\bmodel="([^"]+)"/.exec(query);
  assert.ok(m, `${query}: selects one model`);
  return m[1]!;
}

describe('KEDA ScaledObjects', () => {
  for (const file of SCALED_OBJECTS) {
    it(`${file}: KEDA's schema, a Deployment target, queue depth per replica at the derived target`, () => {
      const so = load(file);
      assert.deepEqual(validate(so), []);
      assert.deepEqual(
        [so.spec.scaleTargetRef.apiVersion, so.spec.scaleTargetRef.kind],
        ['apps/v1', 'Deployment'],
      );
      // Never to zero: a cold pod downloads and loads its models before it can answer.
      assert.ok(so.spec.minReplicaCount >= 1 && so.spec.maxReplicaCount > so.spec.minReplicaCount);
      assert.ok(so.spec.triggers.length >= 1);
      for (const t of so.spec.triggers) {
        assert.equal(t.type, 'prometheus', 'queue depth from Prometheus; never cpu or memory');
        // AverageValue: desired replicas = ceil(query / threshold), so the threshold is per replica.
        assert.equal(t.metricType, 'AverageValue');
        const query = t.metadata.query!;
        assert.match(query, new RegExp(`^sum\\(${QUEUE_METRIC}\\{[^}]*\\}\\)$`), 'the sum over all pods');
        assert.equal(Number(t.metadata.threshold), pendingTarget(queriedModel(query)), query);
        assert.match(t.metadata.serverAddress!, /^https?:\/\/[a-z0-9.-]+:\d+$/);
      }
      const models = so.spec.triggers.map((t) => queriedModel(t.metadata.query!));
      assert.equal(new Set(models).size, models.length, 'one trigger per model');
    });
  }

  it('the plain Deployment is scaled for every default model, the KServe one for its own', () => {
    const models = (so: ScaledObject): string[] =>
      so.spec.triggers.map((t) => queriedModel(t.metadata.query!)).sort();
    assert.deepEqual(models(load(SCALED_OBJECTS[0]!)), ['ocr', 'spam']);
    const kserve = load(SCALED_OBJECTS[1]!);
    assert.deepEqual(models(kserve), ['spam']);
    // KServe names a Standard-mode InferenceService's Deployment <name>-predictor.
    const isvc = parse(readFileSync('deploy/kserve/spam-standard.yaml', 'utf8')) as {
      metadata: { name: string; annotations: Record<string, string> };
    };
    assert.equal(kserve.spec.scaleTargetRef.name, `${isvc.metadata.name}-predictor`);
    assert.equal(isvc.metadata.annotations['serving.kserve.io/autoscalerClass'], 'external');
  });

  it('the schema check refuses a misspelled field and a wrong type', () => {
    const so = load(SCALED_OBJECTS[0]!) as unknown as { spec: Record<string, unknown> };
    const bad = structuredClone(so);
    bad.spec.pollingIntervall = bad.spec.pollingInterval;
    delete bad.spec.pollingInterval;
    assert.match(validate(bad).join('\n'), /spec: .*additional property "pollingIntervall"/);
    const bad2 = structuredClone(so);
    bad2.spec.minReplicaCount = '2';
    assert.match(validate(bad2).join('\n'), /minReplicaCount: is not of a type\(s\) integer/);
    const bad3 = structuredClone(so);
    (bad3.spec.triggers as Record<string, unknown>[])[0]!.metadata = { threshold: 32 };
    assert.match(validate(bad3).join('\n'), /threshold: is not of a type\(s\) string/);
  });

  it('the targets follow the models: spam 64 × 1 / 2 = 32, ocr (no batching) 2 per 2 vCPU', () => {
    assert.equal(pendingTarget('spam'), 32);
    assert.equal(pendingTarget('ocr'), 2);
  });
});
