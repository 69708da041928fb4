/**
 * A kustomize-equivalent renderer for the subset deploy/kubernetes/ uses, so that `npm test` checks
 * what the overlays produce without a kustomize binary: resources (files and directories),
 * components, namespace, namePrefix/nameSuffix (with references to ServiceAccounts, Secrets and
 * ConfigMaps in the set), commonLabels and labels (includeSelectors, includeTemplates), replicas,
 * images, and patches (strategic merge or JSON 6902, by path or inline, with a target).
 * Transformers run in kustomize v5's order (api/internal/target/kusttarget.go): patches,
 * namespace, prefix/suffix, labels, replicas, images.
 *
 * Anything else in a kustomization is refused, not ignored: the renderer cannot silently differ
 * from kustomize. test/deploy/kubernetes-render.test.ts compares it with `kubectl kustomize` where
 * kubectl is installed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jsonPatch from 'fast-json-patch';
import { parse, parseAllDocuments } from 'yaml';
import { strategicMerge } from './strategic-merge.js';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<string, unknown>;
} & Record<string, unknown>;

type Obj = Record<string, unknown>;

interface Target {
  kind?: string;
  name?: string;
  group?: string;
  version?: string;
}

interface Kustomization {
  apiVersion?: string;
  kind?: 'Kustomization' | 'Component';
  resources?: string[];
  components?: string[];
  namespace?: string;
  namePrefix?: string;
  nameSuffix?: string;
  commonLabels?: Record<string, string>;
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }[];
  replicas?: { name: string; count: number }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { path?: string; patch?: string; target?: Target }[];
}

const KNOWN_FIELDS = new Set([
  'apiVersion',
  'kind',
  'resources',
  'components',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'commonLabels',
  'labels',
  'replicas',
  'images',
  'patches',
]);

/** Kinds without a namespace (the ones a kustomization here could hold). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'ClusterServingRuntime',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function readKustomization(dir: string): Kustomization {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => join(dir, f))
    .find((f) => existsSync(f));
  if (!file) throw new Error(`${dir}: no kustomization.yaml`);
  const k = parse(readFileSync(file, 'utf8')) as Kustomization;
  const unknown = Object.keys(k).filter((f) => !KNOWN_FIELDS.has(f));
  if (unknown.length > 0) throw new Error(`${file}: not supported by this renderer: ${unknown.join(', ')}`);
  return k;
}

function loadYaml(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJSON() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Renders the kustomization in `dir` (a Kustomization, as `kubectl kustomize dir` does). */
export function kustomize(dir: string): K8sObject[] {
  const root = resolve(dir);
  const k = readKustomization(root);
  if (k.kind === 'Component') throw new Error(`${root} is a Component: include it from a Kustomization`);
  return build(root, k, []);
}

function build(dir: string, k: Kustomization, start: K8sObject[]): K8sObject[] {
  let objs = [...start];
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r);
    if (statSync(path).isDirectory()) {
      const sub = readKustomization(path);
      if (sub.kind === 'Component') throw new Error(`${path}: a Component belongs in components:`);
      objs.push(...build(path, sub, []));
    } else {
      objs.push(...loadYaml(path));
    }
  }
  for (const c of k.components ?? []) {
    const path = resolve(dir, c);
    const comp = readKustomization(path);
    if (comp.kind !== 'Component') throw new Error(`${path}: components: lists kind Component only`);
    objs = build(path, comp, objs);
  }
  for (const p of k.patches ?? []) objs = applyPatch(dir, objs, p);
  if (k.namespace) setNamespace(objs, k.namespace);
  if (k.namePrefix || k.nameSuffix) rename(objs, k.namePrefix ?? '', k.nameSuffix ?? '');
  if (k.commonLabels) addLabels(objs, k.commonLabels, true, true);
  for (const l of k.labels ?? []) {
    addLabels(objs, l.pairs, l.includeSelectors ?? false, l.includeSelectors || l.includeTemplates || false);
  }
  for (const r of k.replicas ?? []) {
    const hits = objs.filter((o) => WORKLOADS.has(o.kind) && o.metadata.name === r.name);
    for (const o of hits) (o.spec as Obj).replicas = r.count;
  }
  for (const image of k.images ?? []) for (const o of objs) setImage(o, image);
  return objs;
}

function matches(o: K8sObject, t: Target | undefined, fallback: K8sObject | undefined): boolean {
  if (!t)
    return fallback !== undefined && o.kind === fallback.kind && o.metadata.name === fallback.metadata.name;
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return (
    (t.kind === undefined || new RegExp(`^(?:${t.kind})$`).test(o.kind)) &&
    (t.name === undefined || new RegExp(`^(?:${t.name})$`).test(o.metadata.name)) &&
    (t.group === undefined || t.group === group) &&
    (t.version === undefined || t.version === version)
  );
}

function applyPatch(
  dir: string,
  objs: K8sObject[],
  p: NonNullable<Kustomization['patches']>[number],
): K8sObject[] {
  const text = p.path !== undefined ? readFileSync(resolve(dir, p.path), 'utf8') : p.patch;
  if (text === undefined) throw new Error(`${dir}: a patch needs path or patch`);
  const parsed = parse(text) as unknown;
  if (Array.isArray(parsed)) {
    if (!p.target) throw new Error(`${dir}: a JSON 6902 patch needs a target`);
    const ops = parsed as jsonPatch.Operation[];
    return objs.map((o) =>
      matches(o, p.target, undefined)
        ? (jsonPatch.applyPatch(structuredClone(o), ops, true, false).newDocument as K8sObject)
        : o,
    );
  }
  const patch = parsed as K8sObject;
  const hit = objs.filter((o) => matches(o, p.target, patch));
  if (hit.length === 0)
    throw new Error(`${dir}: patch ${patch.kind}/${patch.metadata?.name} matches no resource`);
  return objs.map((o) => {
    if (!hit.includes(o)) return o;
    // With a target, the patch's own name and kind do not narrow it down (kustomize's rule).
    const { metadata, ...rest } = patch;
    const body = p.target ? { ...rest, metadata: { ...metadata, name: o.metadata.name } } : patch;
    return strategicMerge(o, body) as K8sObject;
  });
}

function setNamespace(objs: K8sObject[], namespace: string): void {
  for (const o of objs) {
    if (o.kind === 'Namespace') o.metadata.name = namespace;
    else if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = namespace;
  }
}

/** namePrefix/nameSuffix, and the pod templates' references to renamed objects of the set. */
function rename(objs: K8sObject[], prefix: string, suffix: string): void {
  const renamed = new Map<string, string>();
  for (const o of objs) {
    if (o.kind === 'Namespace' || o.kind === 'CustomResourceDefinition') continue;
    const name = `${prefix}${o.metadata.name}${suffix}`;
    renamed.set(`${o.kind}/${o.metadata.name}`, name);
    o.metadata.name = name;
  }
  const ref = (kind: string, name: unknown): unknown => renamed.get(`${kind}/${String(name)}`) ?? name;
  for (const o of objs) {
    const pod = podSpec(o);
    if (!pod) continue;
    if (pod.serviceAccountName) pod.serviceAccountName = ref('ServiceAccount', pod.serviceAccountName);
    for (const v of (pod.volumes as Obj[] | undefined) ?? []) {
      if (isObj(v.secret)) v.secret.secretName = ref('Secret', v.secret.secretName);
      if (isObj(v.configMap)) v.configMap.name = ref('ConfigMap', v.configMap.name);
    }
    for (const c of containers(pod)) {
      for (const e of (c.env as Obj[] | undefined) ?? []) {
        const from = e.valueFrom;
        if (isObj(from) && isObj(from.secretKeyRef))
          from.secretKeyRef.name = ref('Secret', from.secretKeyRef.name);
        if (isObj(from) && isObj(from.configMapKeyRef)) {
          from.configMapKeyRef.name = ref('ConfigMap', from.configMapKeyRef.name);
        }
      }
      for (const e of (c.envFrom as Obj[] | undefined) ?? []) {
        if (isObj(e.secretRef)) e.secretRef.name = ref('Secret', e.secretRef.name);
        if (isObj(e.configMapRef)) e.configMapRef.name = ref('ConfigMap', e.configMapRef.name);
      }
    }
  }
}

function podSpec(o: K8sObject): Obj | undefined {
  if (o.kind === 'Pod') return o.spec as Obj;
  const template = isObj(o.spec) ? o.spec.template : undefined;
  return isObj(template) && isObj(template.spec) ? template.spec : undefined;
}

function containers(pod: Obj): Obj[] {
  return [
    ...((pod.containers as Obj[] | undefined) ?? []),
    ...((pod.initContainers as Obj[] | undefined) ?? []),
  ];
}

function setLabels(holder: Obj, key: string, pairs: Record<string, string>, create: boolean): void {
  if (!isObj(holder[key])) {
    if (!create) return;
    holder[key] = {};
  }
  Object.assign(holder[key] as Obj, pairs);
}

/**
 * kustomize's label field specs for the kinds here: metadata.labels everywhere; with selectors, the
 * Service selector (created), workload selectors and templates (created), topology spread and
 * affinity selectors (only where present), PodDisruptionBudget selector (only where present).
 */
function addLabels(
  objs: K8sObject[],
  pairs: Record<string, string>,
  selectors: boolean,
  templates: boolean,
): void {
  for (const o of objs) {
    setLabels(o.metadata, 'labels', pairs, true);
    const spec = o.spec as Obj | undefined;
    if (!spec) continue;
    if (selectors && o.kind === 'Service') setLabels(spec, 'selector', pairs, true);
    if (selectors && o.kind === 'PodDisruptionBudget' && isObj(spec.selector)) {
      setLabels(spec.selector, 'matchLabels', pairs, false);
    }
    if (!WORKLOADS.has(o.kind)) continue;
    if (selectors) {
      if (!isObj(spec.selector)) spec.selector = {};
      setLabels(spec.selector as Obj, 'matchLabels', pairs, true);
    }
    if (templates) {
      if (!isObj(spec.template)) spec.template = {};
      const template = spec.template as Obj;
      if (!isObj(template.metadata)) template.metadata = {};
      setLabels(template.metadata as Obj, 'labels', pairs, true);
    }
    const pod = podSpec(o);
    if (!selectors || !pod) continue;
    for (const t of (pod.topologySpreadConstraints as Obj[] | undefined) ?? []) {
      if (isObj(t.labelSelector)) setLabels(t.labelSelector, 'matchLabels', pairs, false);
    }
    const affinity = pod.affinity as Obj | undefined;
    for (const kind of ['podAffinity', 'podAntiAffinity']) {
      const a = affinity?.[kind] as Obj | undefined;
      for (const term of (a?.requiredDuringSchedulingIgnoredDuringExecution as Obj[] | undefined) ?? []) {
        if (isObj(term.labelSelector)) setLabels(term.labelSelector, 'matchLabels', pairs, false);
      }
    }
  }
}

/** `name[:tag][@digest]` → name; images: entries match on the name alone. */
function imageName(ref: string): { name: string } {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = noDigest.lastIndexOf(':');
  return { name: colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest };
}

function setImage(o: K8sObject, image: NonNullable<Kustomization['images']>[number]): void {
  const pod = podSpec(o);
  if (!pod) return;
  for (const c of containers(pod)) {
    if (typeof c.image !== 'string' || imageName(c.image).name !== image.name) continue;
    const old = c.image;
    const at = old.indexOf('@');
    const noDigest = at >= 0 ? old.slice(0, at) : old;
    const colon = noDigest.lastIndexOf(':');
    const oldTag = colon > noDigest.lastIndexOf('/') ? noDigest.slice(colon) : '';
    const name = image.newName ?? image.name;
    if (image.digest) c.image = `${name}@${image.digest}`;
    else if (image.newTag) c.image = `${name}:${image.newTag}`;
    else c.image = `${name}${oldTag}${at >= 0 ? old.slice(at) : ''}`;
  }
}
