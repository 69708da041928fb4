/**
 * deploy/cloudrun/*.yaml: each is a Knative Serving Service that the vendored Knative schema
 * accepts with unknown fields forbidden, carries only annotations Cloud Run knows, and matches what
 * inferd serves: the probe paths are open health routes, the container port is the one the server
 * listens on under Cloud Run's PORT, and the drain ends inside Cloud Run's 10 s after SIGTERM.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { annotationProblems, REVISION_ANNOTATIONS, SERVICE_ANNOTATIONS } from './cloudrun-annotations.js';
import { knativeServiceValidator } from './knative-schema.js';
import { assertOpenHealthRoute, settingsFromEnv } from './server-contract.js';

/** Cloud Run: SIGTERM, then SIGKILL after this (cloud.google.com/run/docs/container-contract). */
const CLOUD_RUN_GRACE_MS = 10_000;
/** Startup probes may span at most 240 s (failureThreshold × periodSeconds). */
const STARTUP_PROBE_MAX_S = 240;

interface Probe {
  httpGet?: { path: string; port: number };
  grpc?: { port: number; service?: string };
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
}
interface Container {
  image: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  startupProbe: Probe;
  livenessProbe: Probe;
  resources: { limits: Record<string, string> };
}
interface KService {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, unknown> };
  spec: {
    template: {
      metadata: { annotations?: Record<string, unknown> };
      spec: { containerConcurrency: number; timeoutSeconds: number; containers: Container[] };
    };
  };
}

const load = (file: string): KService => parse(readFileSync(`deploy/cloudrun/${file}`, 'utf8')) as KService;
const validate = knativeServiceValidator();

/** The environment inferd sees on Cloud Run: the manifest's variables plus PORT = the container port. */
function runtimeEnv(c: Container): Record<string, string> {
  const env: Record<string, string> = { PORT: String(c.ports[0]!.containerPort) };
  for (const e of c.env ?? []) {
    assert.ok(e.value !== undefined, `${e.name}: only literal values are checked here`);
    env[e.name] = e.value;
  }
  return env;
}

function commonChecks(file: string): { service: KService; container: Container } {
  const service = load(file);
  assert.equal(service.apiVersion, 'serving.knative.dev/v1');
  assert.equal(service.kind, 'Service');
  assert.deepEqual(validate(service), [], `${file} against the Knative Service schema`);
  // Cloud Run service names: lowercase letters, digits and hyphens, a letter first, at most 49.
  assert.match(service.metadata.name, /^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$/);
  assert.deepEqual(annotationProblems(service.metadata.annotations, SERVICE_ANNOTATIONS), []);
  const revision = service.spec.template;
  assert.deepEqual(annotationProblems(revision.metadata.annotations, REVISION_ANNOTATIONS), []);
  // CPU always allocated and a warm instance: batching timers and model loads need both.
  assert.equal(revision.metadata.annotations?.['run.googleapis.com/cpu-throttling'], 'false');
  assert.ok(Number(revision.metadata.annotations?.['autoscaling.knative.dev/minScale']) >= 1);
  assert.equal(revision.spec.containers.length, 1);
  const container = revision.spec.containers[0]!;
  assert.equal(container.ports.length, 1, 'Cloud Run routes one port per service');
  assert.deepEqual(container.args.slice(0, 2), ['serve', '--model-repository']);
  assert.match(container.args[2]!, /^gs:\/\/[a-zA-Z0-9._-]+\/.+/);
  // Startup probe on readiness, liveness never on readiness's downstreams.
  const { startupProbe: startup } = container;
  assert.ok(startup.periodSeconds * startup.failureThreshold <= STARTUP_PROBE_MAX_S);
  // Cloud Run refuses a probe whose timeout exceeds its period.
  for (const probe of [container.startupProbe, container.livenessProbe]) {
    assert.ok(probe.timeoutSeconds <= probe.periodSeconds);
  }
  const settings = settingsFromEnv(runtimeEnv(container), { modelRepository: container.args[2] });
  assert.ok(
    settings.shutdownTimeoutMs + 2000 <= CLOUD_RUN_GRACE_MS,
    `drain ${settings.shutdownTimeoutMs} ms + 2 s to exit must fit Cloud Run's ${CLOUD_RUN_GRACE_MS} ms`,
  );
  assert.equal(revision.spec.timeoutSeconds * 1000, settings.bodyTimeoutMs);
  assert.equal(settings.host, '0.0.0.0');
  return { service, container };
}

describe('deploy/cloudrun', () => {
  it('service.yaml: REST over HTTP/1.1 on $PORT with HTTP probes on the health routes', () => {
    const { container } = commonChecks('service.yaml');
    const [port] = container.ports;
    assert.deepEqual(port, { name: 'http1', containerPort: 8080 });
    const settings = settingsFromEnv(runtimeEnv(container));
    assert.equal(settings.httpPort, port!.containerPort, 'inferd listens for HTTP on the routed port');
    assert.equal(container.startupProbe.httpGet?.path, '/v2/health/ready');
    assert.equal(container.livenessProbe.httpGet?.path, '/v2/health/live');
    for (const probe of [container.startupProbe, container.livenessProbe]) {
      assertOpenHealthRoute(probe.httpGet!.path);
      assert.equal(probe.httpGet!.port, settings.httpPort);
    }
  });

  it('service-grpc.yaml: gRPC over h2c end to end, gRPC health probes on the gRPC port', () => {
    const { container } = commonChecks('service-grpc.yaml');
    const [port] = container.ports;
    assert.deepEqual(port, { name: 'h2c', containerPort: 8081 });
    // PORT=8081 is set by Cloud Run; the HTTP server must stay off the gRPC port.
    const settings = settingsFromEnv(runtimeEnv(container));
    assert.equal(settings.grpcPort, port!.containerPort);
    assert.notEqual(settings.httpPort, settings.grpcPort);
    for (const probe of [container.startupProbe, container.livenessProbe]) {
      assert.equal(probe.grpc?.port, settings.grpcPort);
      // '' = the server as a whole in inferd's grpc.health.v1 (src/protocol/grpc/health.ts).
      assert.equal(probe.grpc?.service, '');
    }
  });

  it('schema check refuses a misspelled field at any depth, and a wrong type', () => {
    const good = load('service.yaml');
    const misspell = (edit: (s: KService & Record<string, unknown>) => void): string[] => {
      const copy = structuredClone(good) as KService & Record<string, unknown>;
      edit(copy);
      return validate(copy);
    };
    const spec = (s: KService): Record<string, unknown> =>
      s.spec.template.spec as unknown as Record<string, unknown>;
    const c0 = (s: KService): Record<string, unknown> =>
      s.spec.template.spec.containers[0] as unknown as Record<string, unknown>;
    let errors = misspell((s) => {
      spec(s).containerConncurrency = spec(s).containerConcurrency;
      delete spec(s).containerConcurrency;
    });
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /spec\.template\.spec: .*additional property "containerConncurrency"/);
    errors = misspell((s) => {
      (c0(s).livenessProbe as Record<string, unknown>).httpGett = (
        c0(s).livenessProbe as Record<string, unknown>
      ).httpGet;
      delete (c0(s).livenessProbe as Record<string, unknown>).httpGet;
    });
    assert.match(errors.join('\n'), /livenessProbe: .*additional property "httpGett"/);
    errors = misspell((s) => {
      (c0(s).ports as Record<string, unknown>[])[0]!.containerPort = '8080';
    });
    assert.match(errors.join('\n'), /ports\[0\]\.containerPort: is not of a type\(s\) integer/);
    errors = misspell((s) => {
      delete (s.spec.template.spec as unknown as Record<string, unknown>).containers;
    });
    assert.match(errors.join('\n'), /requires property "containers"/);
  });

  it('annotation check refuses an unknown Cloud Run annotation and a bad value', () => {
    assert.deepEqual(
      annotationProblems({ 'run.googleapis.com/cpu-throtling': 'false' }, REVISION_ANNOTATIONS),
      ['run.googleapis.com/cpu-throtling: not a Cloud Run annotation at this level'],
    );
    assert.equal(
      annotationProblems({ 'run.googleapis.com/cpu-throttling': 'no' }, REVISION_ANNOTATIONS).length,
      1,
    );
    assert.match(
      annotationProblems({ 'autoscaling.knative.dev/minScale': 1 }, REVISION_ANNOTATIONS).join('\n'),
      /must be a string/,
    );
    // A revision annotation at the service level is not read there.
    assert.equal(
      annotationProblems({ 'run.googleapis.com/cpu-throttling': 'false' }, SERVICE_ANNOTATIONS).length,
      1,
    );
    assert.deepEqual(annotationProblems({ 'example.com/team': 'ml' }, SERVICE_ANNOTATIONS), []);
  });
});
