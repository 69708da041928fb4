/**
 * deploy/kubernetes/: every rendered object is valid against the Kubernetes API schemas, and the
 * Deployment matches what inferd serves and the image it runs: container ports = the ports the
 * server listens on under that environment, probe paths = open health routes, every INFERD_*
 * variable a real setting with a valid value, runAsUser = the Dockerfile's USER, writable mounts =
 * where the server writes, Guaranteed QoS, and a grace period that covers preStop + drain.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IContainer, IPodSpec, IProbe, IService } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import type { Settings } from '../../src/config.js';
import { registerCrdSchema, validateManifest } from './k8s-validate.js';
import { kustomize, type K8sObject } from './kustomize.js';
import { assertOpenHealthRoute, settingsFromEnv } from './server-contract.js';

type Deployment = IDeployment & { spec: { template: { spec: IPodSpec } } };

/** The final stage's USER and ENV of the Dockerfile: what the container runs as and starts with. */
function dockerfile(): { uid: number; gid: number; env: Record<string, string> } {
  const text = readFileSync('Dockerfile', 'utf8').replace(/\\\n/g, ' ');
  const last = text.slice(text.lastIndexOf('\nFROM '));
  const user = /^USER (\d+)(?::(\d+))?$/m.exec(last);
  assert.ok(user, 'the image runs as a numeric USER');
  const env: Record<string, string> = {};
  for (const line of last.match(/^ENV .*$/gm) ?? []) {
    for (const [, k, v] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
  }
  return { uid: Number(user[1]), gid: Number(user[2] ?? user[1]), env };
}
const IMAGE = dockerfile();

/** Values a Secret would hold, for the settings check (the shapes the server validates). */
const SECRET_SAMPLES: Record<string, string> = {
  'database-url': 'postgres://inferd@postgres:5432/inferd',
  'redis-url': 'redis://redis:6379',
  'admin-token': 'a'.repeat(32),
};

/** The environment inferd sees: the image's ENV, then the container's (Secret refs as samples). */
function runtimeEnv(c: IContainer): Record<string, string> {
  const env = { ...IMAGE.env };
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (ref && ref.key in SECRET_SAMPLES) env[e.name] = SECRET_SAMPLES[ref.key]!;
    else assert.ok(ref?.optional, `${e.name}: a literal or a known Secret key`);
  }
  return env;
}

const scratch = mkdtempSync(join(tmpdir(), 'inferd-k8s-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** An overlay of production plus the model-image component, rendered from a scratch folder. */
function withModelImage(): K8sObject[] {
  const rel = (p: string): string => relative(scratch, resolve(p));
  writeFileSync(
    join(scratch, 'kustomization.yaml'),
    `resources: [${rel('deploy/kubernetes/overlays/production')}]\ncomponents: [${rel('deploy/kubernetes/components/model-image')}]\n`,
  );
  return kustomize(scratch);
}

const RENDERINGS: Record<string, () => K8sObject[]> = {
  base: () => kustomize('deploy/kubernetes/base'),
  dev: () => kustomize('deploy/kubernetes/overlays/dev'),
  production: () => kustomize('deploy/kubernetes/overlays/production'),
  'production + model-image': withModelImage,
};

const find = <T>(objs: K8sObject[], kind: string): T => {
  const hits = objs.filter((o) => o.kind === kind);
  assert.equal(hits.length, 1, `one ${kind}`);
  return hits[0] as unknown as T;
};
const subset = (
  sel: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean =>
  sel !== undefined &&
  Object.keys(sel).length > 0 &&
  Object.entries(sel).every(([k, v]) => labels?.[k] === v);

function probePort(c: IContainer, probe: IProbe | undefined): number {
  const port = probe?.httpGet?.port;
  const named = c.ports?.find((p) => p.name === port);
  return typeof port === 'number' ? port : named!.containerPort;
}

/** Every check of the Deployment, Service and PDB against the server and the image; throws on the first drift. */
function checkContract(objs: K8sObject[]): Settings {
  const d = find<Deployment>(objs, 'Deployment');
  const pod = d.spec.template.spec;
  const podLabels = d.spec.template.metadata?.labels;
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0]!;
  const settings = settingsFromEnv(runtimeEnv(c), {});
  assert.equal(settings.host, '0.0.0.0', 'listens on the pod IP');

  // Ports: what the server listens on.
  const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  assert.deepEqual(ports, { http: settings.httpPort, grpc: settings.grpcPort });
  const svc = find<IService>(objs, 'Service');
  for (const p of svc.spec!.ports!)
    assert.ok(p.targetPort === p.name && p.name! in ports, `Service port ${p.name}`);
  assert.deepEqual(Object.fromEntries(svc.spec!.ports!.map((p) => [p.name, p.appProtocol])), {
    http: 'http',
    grpc: 'kubernetes.io/h2c',
  });
  assert.ok(subset(svc.spec!.selector, podLabels), 'the Service selects the pods');

  // Probes: open health routes on the HTTP port; liveness never on readiness.
  assert.equal(c.startupProbe?.httpGet?.path, '/v2/health/ready');
  assert.equal(c.readinessProbe?.httpGet?.path, '/v2/health/ready');
  assert.equal(c.livenessProbe?.httpGet?.path, '/v2/health/live');
  for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
    assertOpenHealthRoute(probe!.httpGet!.path!);
    assert.equal(probePort(c, probe), settings.httpPort);
    assert.ok((probe!.timeoutSeconds ?? 1) <= (probe!.periodSeconds ?? 10));
  }

  // Security: the image's user, nothing else writable than where inferd writes.
  const sc = pod.securityContext!;
  assert.equal(sc.runAsUser, IMAGE.uid, 'runAsUser = the Dockerfile USER');
  assert.equal(sc.runAsGroup, IMAGE.gid);
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(sc.seccompProfile?.type, 'RuntimeDefault');
  assert.equal(pod.automountServiceAccountToken, false);
  for (const x of [...pod.containers, ...(pod.initContainers ?? [])]) {
    const csc = x.securityContext!;
    assert.equal(csc.readOnlyRootFilesystem, true, `${x.name}: read-only root`);
    assert.equal(csc.allowPrivilegeEscalation, false);
    assert.equal(csc.runAsNonRoot, true);
    assert.equal(csc.runAsUser ?? sc.runAsUser, IMAGE.uid);
    assert.deepEqual(csc.capabilities?.drop, ['ALL']);
    assert.equal(csc.capabilities?.add, undefined);
    assert.equal(csc.seccompProfile?.type ?? sc.seccompProfile?.type, 'RuntimeDefault');
    // Guaranteed QoS needs requests = limits for cpu and memory in every container.
    const r = x.resources!;
    for (const res of ['cpu', 'memory']) {
      assert.ok(r.limits?.[res] !== undefined, `${x.name}: ${res} limit`);
      assert.equal(r.requests?.[res], r.limits?.[res], `${x.name}: ${res} request = limit`);
    }
  }
  const writable = new Map(
    (c.volumeMounts ?? []).filter((m) => !m.readOnly).map((m) => [m.mountPath, m.name]),
  );
  const tmpDir = runtimeEnv(c).TMPDIR ?? '/tmp';
  for (const path of [tmpDir, settings.dataDir]) {
    const volume = pod.volumes?.find((v) => v.name === writable.get(path));
    assert.ok(volume?.emptyDir?.sizeLimit, `${path}: a writable emptyDir with a size limit`);
  }
  if (!/^(s3|gs):\/\//.test(settings.modelRepository) && settings.modelRepository !== './models') {
    const mount = c.volumeMounts?.find((m) => m.mountPath === settings.modelRepository);
    assert.ok(mount, `the model repository ${settings.modelRepository} is a mounted volume`);
    const loader = pod.initContainers?.find((x) =>
      x.volumeMounts?.some((m) => m.name === mount.name && !m.readOnly),
    );
    assert.ok(loader, 'an init container fills it');
  }

  // Shutdown: preStop sleep + drain + 2 s to exit fit the grace period.
  const sleep = c.lifecycle?.preStop?.exec?.command;
  assert.equal(sleep?.[0], 'sleep');
  const sleepS = Number(sleep[1]);
  assert.ok(sleepS >= 5, 'endpoints need a few seconds to drop the pod');
  const graceS = pod.terminationGracePeriodSeconds!;
  assert.ok(
    sleepS + settings.shutdownTimeoutMs / 1000 + 2 <= graceS,
    `preStop ${sleepS} s + drain ${settings.shutdownTimeoutMs} ms + 2 s must fit the grace period ${graceS} s`,
  );

  // Rollout and placement.
  assert.equal(d.spec.strategy?.rollingUpdate?.maxUnavailable, 0, 'a rolling update never lowers capacity');
  assert.ok(subset(d.spec.selector.matchLabels, podLabels));
  const keys = (pod.topologySpreadConstraints ?? []).map((t) => {
    assert.ok(subset(t.labelSelector?.matchLabels, podLabels), `${t.topologyKey}: selects these pods`);
    return t.topologyKey;
  });
  assert.deepEqual(keys.sort(), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  const pdb = find<IPodDisruptionBudget>(objs, 'PodDisruptionBudget');
  assert.ok(subset(pdb.spec!.selector!.matchLabels, podLabels), 'the PDB covers the pods');
  return settings;
}

describe('deploy/kubernetes manifests', () => {
  for (const [name, render] of Object.entries(RENDERINGS)) {
    it(`${name}: every object valid against the Kubernetes API schemas, the Deployment matches the server`, () => {
      const objs = render();
      for (const o of objs) assert.deepEqual(validateManifest(o), [], `${o.kind}/${o.metadata.name}`);
      checkContract(objs);
    });
  }

  it('dev runs with auth off; production with PostgreSQL, Redis, admin token and a bucket', () => {
    const dev = checkContract(RENDERINGS.dev!());
    assert.equal(dev.auth, 'off');
    assert.equal(dev.databaseUrl, undefined, 'SQLite in the data directory');
    const prod = checkContract(RENDERINGS.production!());
    assert.equal(prod.auth, 'on');
    assert.match(prod.databaseUrl!, /^postgres:/);
    assert.match(prod.redisUrl!, /^redis:/);
    assert.ok(prod.adminToken);
    assert.match(prod.modelRepository, /^s3:\/\//);
    assert.equal(prod.strictReadiness, true);
    assert.equal(checkContract(withModelImage()).modelRepository, '/mnt/models');
  });

  it('a drift fails: probe path, port, user, QoS, grace period, unknown setting', () => {
    const drift =
      (edit: (c: IContainer, pod: IPodSpec) => void): (() => void) =>
      () => {
        const objs = RENDERINGS.dev!();
        const pod = find<Deployment>(objs, 'Deployment').spec.template.spec;
        edit(pod.containers[0]!, pod);
        checkContract(objs);
      };
    assert.doesNotThrow(drift(() => {}));
    assert.throws(
      drift((c) => (c.readinessProbe!.httpGet!.path = '/healthz')),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => (c.livenessProbe!.httpGet!.path = '/v2/models/spam/ready')),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => (c.ports![0]!.containerPort = 8000)),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => c.env!.push({ name: 'INFERD_GRPC_PORT', value: '9000' })),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => c.env!.push({ name: 'INFERD_SHUTDOWN_TIMEOUT', value: '1000' })),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => c.env!.push({ name: 'INFERD_SHUTDOWN_TIMEOUT_MS', value: '40000' })),
      assert.AssertionError,
    );
    assert.throws(
      drift((_, pod) => (pod.securityContext!.runAsUser = 1001)),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => (c.resources!.requests!.cpu = '500m')),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => (c.securityContext!.readOnlyRootFilesystem = false)),
      assert.AssertionError,
    );
    assert.throws(
      drift((c) => (c.volumeMounts = c.volumeMounts!.filter((m) => m.mountPath !== '/var/lib/inferd'))),
      assert.AssertionError,
    );
  });

  it('validateManifest: refuses a wrong type and an unknown kind; CRDs are pluggable', () => {
    const [deployment] = RENDERINGS.dev!().filter((o) => o.kind === 'Deployment');
    const bad = structuredClone(deployment!) as unknown as Deployment;
    (bad.spec.template.spec.containers[0]!.ports![0] as { containerPort: unknown }).containerPort = 'http';
    assert.match(validateManifest(bad).join('\n'), /containerPort: must be integer/);
    const knative = parse(readFileSync('deploy/cloudrun/service.yaml', 'utf8')) as K8sObject;
    assert.match(validateManifest(knative).join(), /no schema/);
    const crd = parse(readFileSync('deploy/cloudrun/schemas/knative-serving/service-crd.yaml', 'utf8')) as {
      spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
    };
    const v1 = crd.spec.versions.find((v) => v.name === 'v1')!;
    registerCrdSchema('serving.knative.dev/v1', 'Service', v1.schema.openAPIV3Schema);
    assert.deepEqual(validateManifest(knative), []);
    (knative.spec as Record<string, unknown>).templat = {};
    assert.match(validateManifest(knative).join(), /templat/);
  });
});
