/**
 * deploy/kubernetes/monitoring/servicemonitor.yaml passes the Prometheus Operator's ServiceMonitor
 * CRD (unknown fields refused), selects the inferd Service by the label deploy/kubernetes/base
 * gives it (app.kubernetes.io/name: inferd) on its port named `http`, and scrapes the path where
 * inferd serves its metrics with no credential.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { credentialFor, REST_POLICY } from '../../src/gateway/access-policy.js';
import { settingsFromEnv } from './server-contract.js';
import { crdValidator } from './kserve-crd-schema.js';

const DIR = 'deploy/kubernetes/monitoring';

interface ServiceMonitor {
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    selector: { matchLabels: Record<string, string> };
    endpoints: { port: string; path: string; interval: string; scrapeTimeout: string }[];
  };
}

const load = (): ServiceMonitor =>
  parse(readFileSync(`${DIR}/servicemonitor.yaml`, 'utf8')) as ServiceMonitor;
const validate = crdValidator(
  `${DIR}/schemas/prometheus-operator/monitoring.coreos.com_servicemonitors.yaml`,
  'monitoring.coreos.com',
  'ServiceMonitor',
  'v1',
);
const seconds = (d: string): number => {
  const m = /^(\d+)s$/.exec(d);
  assert.ok(m, `${d}: whole seconds`);
  return Number(m[1]);
};

describe('ServiceMonitor', () => {
  it("passes the Prometheus Operator's ServiceMonitor schema", () => {
    assert.deepEqual(validate(load()), []);
  });

  it('the schema check refuses a misspelled field and a bad interval', () => {
    const bad = load() as unknown as { spec: { endpoints: Record<string, unknown>[] } };
    bad.spec.endpoints[0]!.paht = '/metrics';
    assert.match(validate(bad).join('\n'), /endpoints\[0\]: .*additional property "paht"/);
    const bad2 = load();
    bad2.spec.endpoints[0]!.interval = '15 seconds';
    assert.match(validate(bad2).join('\n'), /interval: does not match pattern/);
  });

  it("selects inferd's Service on its HTTP port and scrapes /metrics, open to Prometheus", () => {
    const sm = load();
    assert.deepEqual(sm.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'inferd' });
    assert.equal(sm.spec.endpoints.length, 1);
    const [ep] = sm.spec.endpoints;
    // The Service's port names (deploy/kubernetes/base): http = 8080 (REST, /metrics), grpc = 8081.
    assert.equal(ep!.port, 'http');
    assert.equal(settingsFromEnv({}).httpPort, 8080, 'the http port is where inferd serves /metrics');
    assert.equal(REST_POLICY[`GET ${ep!.path}`], 'metrics', `${ep!.path} is inferd's metrics route`);
    for (const auth of ['on', 'off'] as const) {
      assert.equal(credentialFor('metrics', { auth, v2Auth: 'keys' }), 'none');
    }
    // The operator refuses a timeout above the interval; the autoscalers poll at the interval.
    assert.ok(seconds(ep!.scrapeTimeout) < seconds(ep!.interval));
  });
});
