/**
 * deploy/kubernetes/ renders to the objects we expect: the overlays through the kustomize-equivalent
 * renderer (test/deploy/kustomize.ts), and, where kubectl is installed, the same objects as
 * `kubectl kustomize` (kustomize v5) prints, so that the renderer cannot drift from kustomize.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IEnvVar, IPodSpec } from 'kubernetes-models/v1';
import { kustomize, type K8sObject } from './kustomize.js';
import { strategicMerge } from './strategic-merge.js';

const ROOT = 'deploy/kubernetes';
const KUBECTL = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const scratch = mkdtempSync(join(tmpdir(), 'inferd-kustomize-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const id = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const sorted = (objs: K8sObject[]): K8sObject[] => [...objs].sort((a, b) => id(a).localeCompare(id(b)));

function kubectlKustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJSON() as K8sObject);
}

/** Renders with ours; where kubectl exists, the same objects as kubectl kustomize (order aside). */
function render(dir: string): K8sObject[] {
  const ours = kustomize(dir);
  if (KUBECTL)
    assert.deepEqual(sorted(ours), sorted(kubectlKustomize(dir)), `${dir}: ours vs kubectl kustomize`);
  return ours;
}

/** A kustomization in a scratch folder; `paths` are made relative to it (kustomize refuses absolute ones). */
function scratchOverlay(name: string, text: (rel: (p: string) => string) => string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    text((p) => relative(dir, resolve(p))),
  );
  return dir;
}

function deployment(objs: K8sObject[]): IDeployment & { spec: { template: { spec: IPodSpec } } } {
  const hits = objs.filter((o) => o.kind === 'Deployment');
  assert.equal(hits.length, 1, 'one Deployment');
  return hits[0] as unknown as IDeployment & { spec: { template: { spec: IPodSpec } } };
}
/** The first container's env: name → value, or its valueFrom. */
const envOf = (d: ReturnType<typeof deployment>): Record<string, IEnvVar['value'] | IEnvVar['valueFrom']> =>
  Object.fromEntries(d.spec.template.spec.containers[0]!.env!.map((e) => [e.name, e.value ?? e.valueFrom]));

describe('deploy/kubernetes renders', () => {
  it(`kubectl kustomize is ${KUBECTL ? '' : 'NOT '}installed: ${KUBECTL ? 'compared' : 'renderer only'}`, () => {});

  it('base: ServiceAccount, Deployment, Service, PodDisruptionBudget, labelled and selected alike', () => {
    const objs = render(`${ROOT}/base`);
    assert.deepEqual(objs.map((o) => o.kind).sort(), [
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    for (const o of objs) assert.equal(o.metadata.labels?.['app.kubernetes.io/name'], 'inferd');
    const d = deployment(objs);
    assert.equal(d.spec.template.spec.containers[0]!.image, 'inferd');
    assert.equal(d.metadata!.namespace, undefined);
  });

  it('dev: one replica in inferd-dev, auth off, the local image, the instance label on the pods', () => {
    const objs = render(`${ROOT}/overlays/dev`);
    assert.deepEqual(objs.map(id).sort(), [
      'Deployment/inferd-dev/inferd',
      'Namespace//inferd-dev',
      'PodDisruptionBudget/inferd-dev/inferd',
      'Service/inferd-dev/inferd',
      'ServiceAccount/inferd-dev/inferd',
    ]);
    const d = deployment(objs);
    assert.equal(d.spec.replicas, 1);
    const c = d.spec.template.spec.containers[0]!;
    assert.equal(c.image, 'inferd:dev');
    assert.equal(envOf(d).INFERD_AUTH, 'off');
    assert.equal(envOf(d).INFERD_SHUTDOWN_TIMEOUT_MS, '30000', 'the base env is kept beside the patch');
    assert.deepEqual(c.resources, {
      requests: { cpu: '1', memory: '1Gi' },
      limits: { cpu: '1', memory: '1Gi' },
    });
    assert.equal(d.spec.template.metadata!.labels!['app.kubernetes.io/instance'], 'inferd-dev');
    assert.equal(
      d.spec.selector.matchLabels!['app.kubernetes.io/instance'],
      undefined,
      'selectors stay as in base',
    );
  });

  it('production: three replicas in inferd, the release image, stores and token from the Secret', () => {
    const objs = render(`${ROOT}/overlays/production`);
    assert.ok(objs.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'inferd'));
    const d = deployment(objs);
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.spec.template.spec.containers[0]!.image, 'registry.example.com/inferd:0.1.0');
    const env = envOf(d);
    assert.deepEqual(env.INFERD_DATABASE_URL, { secretKeyRef: { name: 'inferd', key: 'database-url' } });
    assert.deepEqual(env.INFERD_REDIS_URL, { secretKeyRef: { name: 'inferd', key: 'redis-url' } });
    assert.deepEqual(env.INFERD_ADMIN_TOKEN, { secretKeyRef: { name: 'inferd', key: 'admin-token' } });
    assert.match(String(env.INFERD_MODEL_REPOSITORY), /^s3:\/\//);
    assert.equal(env.INFERD_AUTH, undefined, 'auth stays on (the default)');
    const tmp = d.spec.template.spec.volumes!.find((v) => v.name === 'tmp');
    assert.deepEqual(tmp, { name: 'tmp', emptyDir: { sizeLimit: '8Gi' } }, 'the JSON 6902 patch hit /tmp');
  });

  it('the model-image component, with namePrefix and commonLabels: init container, volume, repository, renamed references', () => {
    const dir = scratchOverlay(
      'model-image',
      (rel) => `resources: [${rel(`${ROOT}/overlays/production`)}]
components: [${rel(`${ROOT}/components/model-image`)}]
namePrefix: blue-
commonLabels: {team: ml}
images: [{name: inferd-models, newName: registry.example.com/inferd-models, newTag: '2026-12-01'}]
`,
    );
    const objs = render(dir);
    const d = deployment(objs);
    const pod = d.spec.template.spec;
    assert.equal(d.metadata!.name, 'blue-inferd');
    assert.equal(pod.serviceAccountName, 'blue-inferd', 'the ServiceAccount is in the set: renamed');
    // commonLabels reach the selectors (and so must stay put once applied: selectors are immutable).
    assert.equal(d.spec.selector.matchLabels!.team, 'ml');
    assert.equal(pod.topologySpreadConstraints![0]!.labelSelector!.matchLabels!.team, 'ml');
    const pdb = objs.find((o) => o.kind === 'PodDisruptionBudget')!.spec as {
      selector: { matchLabels: object };
    };
    assert.deepEqual(pdb.selector.matchLabels, { 'app.kubernetes.io/name': 'inferd', team: 'ml' });
    assert.deepEqual(
      envOf(d).INFERD_DATABASE_URL,
      { secretKeyRef: { name: 'inferd', key: 'database-url' } },
      'the Secret is not: kept',
    );
    assert.equal(pod.initContainers![0]!.image, 'registry.example.com/inferd-models:2026-12-01');
    assert.equal(envOf(d).INFERD_MODEL_REPOSITORY, '/mnt/models', 'the component wins over the overlay');
    assert.deepEqual(
      pod.volumes!.map((v) => v.name),
      ['models', 'tmp', 'data'],
    );
  });
});

describe('strategic merge (as kustomize orders it)', () => {
  it('merges keyed lists item by item: the patch items first, then the rest; $patch: delete removes', () => {
    const base = {
      containers: [
        {
          name: 'a',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
            { name: 'C', value: '3' },
          ],
          args: ['x'],
        },
        { name: 'b' },
      ],
    };
    const patch = {
      containers: [
        { name: 'c' },
        {
          name: 'a',
          env: [
            { name: 'X', value: 'x' },
            { name: 'B', value: 'b' },
            { name: 'C', $patch: 'delete' },
          ],
          args: ['y'],
        },
      ],
    };
    assert.deepEqual(strategicMerge(base, patch), {
      containers: [
        { name: 'c' },
        {
          name: 'a',
          env: [
            { name: 'X', value: 'x' },
            { name: 'B', value: 'b' },
            { name: 'A', value: '1' },
          ],
          args: ['y'],
        },
        { name: 'b' },
      ],
    });
    assert.equal(base.containers[0]!.env?.length, 3, 'the base is not modified');
  });

  it('null deletes a key; an unkeyed list is replaced', () => {
    assert.deepEqual(strategicMerge({ a: 1, b: { c: 2, d: 3 }, t: [1, 2] }, { b: { c: null }, t: [3] }), {
      a: 1,
      b: { d: 3 },
      t: [3],
    });
  });
});
