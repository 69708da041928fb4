/**
 * deploy/kserve/*.yaml: the ClusterServingRuntime and every InferenceService pass KServe's own
 * CRD schemas with unknown fields refused at any depth; and both match what inferd serves: the runtime's flags and INFERD_* variables are real
 * settings, probes hit open health routes on the port that serves them, a Knative revision gets
 * exactly one port of the right protocol, and the drain ends inside the pod's grace period.
 * The runtime's command line is run for real in kserve-model-folder.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SETTING_SOURCES, type Settings } from '../../src/config.js';
import {
  inferenceServiceValidator,
  kserveContainer,
  KSERVE_DIR,
  loadYaml,
  runtimeValidator,
  type ClusterServingRuntime,
  type InferenceService,
  type Probe,
} from './kserve-manifests.js';
import { assertOpenHealthRoute, settingsFromEnv } from './server-contract.js';

/** Kubernetes' default terminationGracePeriodSeconds (Standard mode sets none). */
const DEFAULT_GRACE_MS = 30_000;

const runtime = loadYaml<ClusterServingRuntime>('cluster-serving-runtime.yaml');
const isvcFiles = readdirSync(KSERVE_DIR).filter(
  (f) => f.endsWith('.yaml') && f !== 'cluster-serving-runtime.yaml' && !f.endsWith('-scaledobject.yaml'),
);
const isvcs = isvcFiles.map((f) => ({ file: f, isvc: loadYaml<InferenceService>(f) }));

/** `--model-name=x` style flags → settings input, refusing a flag inferd does not have. */
function flagsToSettings(args: string[]): Partial<Settings> {
  const byFlag = new Map(Object.entries(SETTING_SOURCES).map(([key, s]) => [s.flag, key as keyof Settings]));
  const out: Partial<Record<keyof Settings, string>> = {};
  assert.equal(args[0], 'serve', 'the first argument is the serve command');
  for (const arg of args.slice(1)) {
    const m = /^(--[a-z-]+)=(.*)$/.exec(arg);
    assert.ok(m, `${arg}: flags are written --flag=value`);
    const key = byFlag.get(m[1]!);
    assert.ok(key, `${m[1]} is not an inferd flag`);
    out[key] = m[2]!;
  }
  // Strings, as the CLI passes them: loadSettings validates and converts each.
  return out as Partial<Settings>;
}

/** The settings inferd runs with for `isvc` under this runtime. */
function settingsFor(isvc: InferenceService): Settings {
  const { args, env } = kserveContainer(runtime, isvc);
  return settingsFromEnv(env, flagsToSettings(args));
}

function checkHttpProbe(probe: Probe | undefined, path: string, port: number): void {
  assert.ok(probe?.httpGet, `an HTTP probe on ${path}`);
  assert.equal(probe.httpGet.path, path);
  assert.equal(probe.httpGet.port, port, `${path} is served on the HTTP port`);
  assertOpenHealthRoute(path);
  assert.ok(probe.timeoutSeconds <= probe.periodSeconds);
}

describe('deploy/kserve: the ClusterServingRuntime', () => {
  const validate = runtimeValidator();

  it("passes KServe's ClusterServingRuntime schema (v0.16.0 CRD, unknown fields refused)", () => {
    assert.deepEqual(validate(runtime), []);
  });

  it('the schema check refuses a misspelled field at any depth and a wrong type', () => {
    const bad = structuredClone(runtime) as unknown as Record<string, Record<string, unknown>>;
    bad.spec!.supportedModelFormat = bad.spec!.supportedModelFormats;
    delete bad.spec!.supportedModelFormats;
    assert.match(validate(bad).join('\n'), /spec: .*additional property "supportedModelFormat"/);
    const bad2 = structuredClone(runtime);
    (bad2.spec.containers[0]!.securityContext as Record<string, unknown>).runAsNonroot = true;
    assert.match(validate(bad2).join('\n'), /securityContext: .*additional property "runAsNonroot"/);
    const bad3 = structuredClone(runtime);
    (bad3.spec.supportedModelFormats[0] as Record<string, unknown>).autoSelect = 'false';
    assert.match(validate(bad3).join('\n'), /autoSelect: is not of a type\(s\) boolean/);
  });

  it('is chosen by name only: onnx with autoSelect off, Open Inference Protocol over REST and gRPC', () => {
    assert.equal(runtime.metadata.name, 'inferd');
    assert.deepEqual(runtime.spec.supportedModelFormats, [{ name: 'onnx', version: '1', autoSelect: false }]);
    assert.deepEqual([...runtime.spec.protocolVersions].sort(), ['grpc-v2', 'v2']);
    assert.equal(runtime.spec.annotations['prometheus.kserve.io/path'], '/metrics');
  });

  it('runs inferd on /mnt/models under the InferenceService name, with real settings', () => {
    assert.equal(runtime.spec.containers.length, 1);
    const c = runtime.spec.containers[0]!;
    // KServe merges the InferenceService's container into the one named kserve-container.
    assert.equal(c.name, 'kserve-container');
    assert.ok(c.args.includes('--model-repository=/mnt/models'));
    assert.ok(c.args.includes('--model-name={{.Name}}'));
    const settings = settingsFor(isvcs[0]!.isvc);
    assert.equal(settings.modelRepository, '/mnt/models');
    assert.equal(settings.modelName, isvcs[0]!.isvc.metadata.name);
    assert.equal(settings.host, '0.0.0.0', 'reachable from the pod network');
    assert.equal(settings.v2Auth, 'off', "KServe's ingress authenticates; OIP clients send no inferd key");
    assert.ok(
      settings.shutdownTimeoutMs + 2000 <= DEFAULT_GRACE_MS,
      `drain ${settings.shutdownTimeoutMs} ms + 2 s to exit must fit the ${DEFAULT_GRACE_MS} ms grace period`,
    );
    // inferd writes only its data dir and TMPDIR: both on volumes, the root file system read-only.
    const mounts = new Map(c.volumeMounts.map((m) => [m.mountPath, m.name]));
    const volumes = new Set(runtime.spec.volumes.map((v) => v.name));
    for (const dir of [settings.dataDir, '/tmp']) {
      assert.ok(volumes.has(mounts.get(dir) ?? ''), `${dir} is a mounted volume`);
    }
  });

  it('is locked down: non-root, read-only root, no capabilities, RuntimeDefault seccomp, Guaranteed QoS', () => {
    const c = runtime.spec.containers[0]!;
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(c.resources.requests, c.resources.limits, 'requests = limits');
  });
});

describe('deploy/kserve: the InferenceServices', () => {
  const validate = inferenceServiceValidator();

  it("every example passes KServe's InferenceService CRD (v1beta1, unknown fields refused)", () => {
    assert.ok(isvcs.length >= 6);
    for (const { file, isvc } of isvcs) {
      assert.deepEqual(validate(isvc), [], file);
      assert.equal(isvc.spec.predictor.model.runtime, runtime.metadata.name, `${file} names the runtime`);
      assert.ok(
        runtime.spec.supportedModelFormats.some((f) => f.name === isvc.spec.predictor.model.modelFormat.name),
      );
      // The CRD types protocolVersion as any string: the runtime's list is what KServe matches.
      assert.ok(runtime.spec.protocolVersions.includes(isvc.spec.predictor.model.protocolVersion), file);
      assert.match(isvc.spec.predictor.model.storageUri, /^(s3|gs):\/\/[A-Za-z0-9._-]+\/.+/);
    }
  });

  /** A copy of the spam Standard example with `value` at the dotted `path` (undefined deletes it). */
  function edited(path: string, value: unknown): Record<string, unknown> {
    const copy = structuredClone(
      isvcs.find((x) => x.file === 'spam-standard.yaml')!.isvc,
    ) as unknown as Record<string, unknown>;
    const keys = path.split('.');
    let node = copy;
    for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
    if (value === undefined) delete node[keys.at(-1)!];
    else node[keys.at(-1)!] = value;
    return copy;
  }

  it('the CRD check refuses an unknown field at any depth, a wrong type, a bad enum, an int32 overflow', () => {
    const cases: [string, unknown, RegExp][] = [
      ['spec.predictr', {}, /^spec: .*additional property "predictr"/m],
      ['spec.predictor.minReplica', 1, /^spec\.predictor: .*additional property "minReplica"/m],
      [
        'spec.predictor.model.storageURI',
        's3://b/m',
        /^spec\.predictor\.model: .*additional property "storageURI"/m,
      ],
      // corev1.ContainerPort has no appProtocol (a ServicePort does): the API server drops it.
      [
        'spec.predictor.model.ports.1.appProtocol',
        'kubernetes.io/h2c',
        /ports\[1\]: .*additional property "appProtocol"/,
      ],
      ['spec.predictor.model.readinessProbe.httpGet.paht', '/', /httpGet: .*additional property "paht"/],
      ['spec.predictor.model.ports.0.containerPort', '8080', /containerPort: is not of a type\(s\) integer/],
      ['spec.predictor.scaleMetric', 'requests', /scaleMetric: is not one of enum values/],
      ['spec.predictor.minReplicas', 2 ** 31, /minReplicas: does not conform to the "int32" format/],
      ['spec.predictor.model.modelFormat.name', undefined, /modelFormat: requires property "name"/],
      ['kind', 'InferenceServices', /^kind: is not InferenceService/m],
      ['metadata.name', 'Spam_v2', /^metadata\.name: "Spam_v2" is not a DNS-1035 label/m],
    ];
    for (const [path, value, expected] of cases) {
      assert.match(validate(edited(path, value)).join('\n'), expected, path);
    }
  });

  it('the CRD check keeps Kubernetes semantics: int-or-string ports, quantities, an open status', () => {
    // x-kubernetes-int-or-string: a named port is as valid as a number; a boolean is neither.
    assert.deepEqual(validate(edited('spec.predictor.model.readinessProbe.httpGet.port', 'http')), []);
    assert.match(
      validate(edited('spec.predictor.model.readinessProbe.httpGet.port', true)).join('\n'),
      /httpGet\.port: is not any of/,
    );
    // Resource quantities: int-or-string with Kubernetes' quantity pattern.
    assert.deepEqual(
      validate(edited('spec.predictor.model.resources', { requests: { cpu: '500m', memory: 2 ** 30 } })),
      [],
    );
    assert.match(
      validate(edited('spec.predictor.model.resources', { requests: { cpu: 'half' } })).join('\n'),
      /requests\.cpu: does not match pattern/,
    );
    // status is x-kubernetes-preserve-unknown-fields: KServe's controller writes what it likes there.
    assert.deepEqual(validate(edited('status', { anyControllerField: true })), []);
  });

  it('each default model has a Standard and a Knative example, named as the model its clients call', () => {
    for (const model of ['spam', 'ocr']) {
      const modes = isvcs
        .filter(
          (x) => x.isvc.metadata.name === model && x.isvc.spec.predictor.canaryTrafficPercent === undefined,
        )
        .map((x) => x.isvc.metadata.annotations['serving.kserve.io/deploymentMode'])
        .sort();
      assert.deepEqual(modes, ['Knative', 'Standard'], model);
    }
  });

  it('Standard mode: REST on 8080 (the Service port 80) and gRPC on 8081, probes on the health routes', () => {
    for (const { file, isvc } of isvcs) {
      if (isvc.metadata.annotations['serving.kserve.io/deploymentMode'] !== 'Standard') continue;
      const settings = settingsFor(isvc);
      const m = isvc.spec.predictor.model;
      assert.deepEqual(
        m.ports.map((p) => [p.name, p.containerPort]),
        [
          ['http', settings.httpPort],
          ['grpc', settings.grpcPort],
        ],
        file,
      );
      // KServe marks the Service port kubernetes.io/h2c for a port named grpc or h2c (isGrpcPort,
      // pkg/controller/v1beta1/inferenceservice/reconcilers/service/service_reconciler.go).
      assert.match(m.ports[1]!.name, /grpc|h2c/, `${file}: the gRPC port's name makes KServe route HTTP/2`);
      checkHttpProbe(m.startupProbe, '/v2/health/ready', settings.httpPort);
      checkHttpProbe(m.readinessProbe, '/v2/health/ready', settings.httpPort);
      checkHttpProbe(m.livenessProbe, '/v2/health/live', settings.httpPort);
      // KEDA scales it (deploy/kserve/*-scaledobject.yaml, deploy/kubernetes/autoscaling): no CPU HPA.
      assert.equal(isvc.metadata.annotations['serving.kserve.io/autoscalerClass'], 'external', file);
    }
  });

  it('Knative mode: exactly one port, REST (http1 8080) for v2 and gRPC (h2c 8081) for grpc-v2', () => {
    for (const { file, isvc } of isvcs) {
      if (isvc.metadata.annotations['serving.kserve.io/deploymentMode'] !== 'Knative') continue;
      const settings = settingsFor(isvc);
      const m = isvc.spec.predictor.model;
      assert.equal(m.ports.length, 1, `${file}: a Knative revision routes one port`);
      const [port] = m.ports;
      if (m.protocolVersion === 'grpc-v2') {
        assert.deepEqual([port!.name, port!.containerPort], ['h2c', settings.grpcPort], file);
        for (const probe of [m.readinessProbe, m.livenessProbe]) {
          assert.equal(probe?.grpc?.port, settings.grpcPort);
          // '' = the server as a whole in inferd's grpc.health.v1 (src/protocol/grpc/health.ts).
          assert.equal(probe?.grpc?.service, '');
        }
      } else {
        assert.deepEqual([port!.name, port!.containerPort], ['http1', settings.httpPort], file);
        checkHttpProbe(m.readinessProbe, '/v2/health/ready', settings.httpPort);
        checkHttpProbe(m.livenessProbe, '/v2/health/live', settings.httpPort);
      }
      // Knative scales on requests in flight per pod, the signal inferd_pending_requests measures.
      assert.equal(isvc.spec.predictor.scaleMetric, 'concurrency', file);
      assert.ok((isvc.spec.predictor.scaleTarget ?? 0) >= 1);
      assert.equal((isvc.spec.predictor.timeout ?? 0) * 1000, settings.bodyTimeoutMs, file);
    }
  });

  it('the canary example splits traffic in Knative mode, over the same name as the stable service', () => {
    const canary = isvcs.find((x) => x.isvc.spec.predictor.canaryTrafficPercent !== undefined);
    assert.ok(canary, 'a canary example');
    const { isvc } = canary;
    assert.equal(isvc.metadata.annotations['serving.kserve.io/deploymentMode'], 'Knative');
    const pct = isvc.spec.predictor.canaryTrafficPercent!;
    assert.ok(pct > 0 && pct < 100, `${pct} % to the new revision`);
    const stable = isvcs.find(
      (x) =>
        x.isvc.metadata.name === isvc.metadata.name &&
        x.isvc.metadata.annotations['serving.kserve.io/deploymentMode'] === 'Knative' &&
        x.isvc.spec.predictor.canaryTrafficPercent === undefined,
    );
    assert.ok(stable, 'applied over the stable Knative InferenceService of the same name');
    assert.notEqual(isvc.spec.predictor.model.storageUri, stable.isvc.spec.predictor.model.storageUri);
  });
});
