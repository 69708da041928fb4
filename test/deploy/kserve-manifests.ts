/**
 * deploy/kserve/*.yaml as KServe reads them, for the tests: the ClusterServingRuntime validated
 * against KServe's own CRD (vendored in deploy/kserve/schemas/kserve/), the InferenceServices
 * checked field by field, and the container KServe would run for an InferenceService (its
 * placeholders filled, its args appended) so that the tests can run that very command line.
 *
 * KServe's InferenceService CRD is about 1 MB (three full pod specs) and is not vendored: an
 * InferenceService's predictor is checked here as KServe's Go types define it
 * (pkg/apis/serving/v1beta1/{component.go,predictor.go,predictor_model.go} at v0.16.0): the
 * component-extension fields and ModelSpec's own fields against the schema below, with unknown
 * fields refused, and the embedded corev1.Container against the Kubernetes API schema
 * (kubernetes-models).
 */
import { readFileSync } from 'node:fs';
import { Validator, type Schema } from 'jsonschema';
import { Container } from 'kubernetes-models/v1';
import { parse } from 'yaml';
import { crdValidator } from './kserve-crd-schema.js';

export const KSERVE_DIR = 'deploy/kserve';
const CSR_CRD = `${KSERVE_DIR}/schemas/kserve/serving.kserve.io_clusterservingruntimes.yaml`;

export interface Probe {
  httpGet?: { path: string; port: number };
  grpc?: { port: number; service?: string };
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold?: number;
}
export interface RuntimeContainer {
  name: string;
  image: string;
  args: string[];
  env: { name: string; value: string }[];
  volumeMounts: { name: string; mountPath: string }[];
  securityContext: Record<string, unknown>;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
}
export interface ClusterServingRuntime {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    annotations: Record<string, string>;
    supportedModelFormats: { name: string; version?: string; autoSelect?: boolean }[];
    protocolVersions: string[];
    containers: RuntimeContainer[];
    volumes: { name: string; emptyDir?: Record<string, unknown> }[];
  };
}
export interface ModelSpec {
  modelFormat: { name: string; version?: string };
  runtime: string;
  protocolVersion: string;
  storageUri: string;
  args?: string[];
  ports: { name: string; containerPort: number; protocol?: string; appProtocol?: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
export interface InferenceService {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    predictor: {
      minReplicas?: number;
      maxReplicas?: number;
      scaleMetric?: string;
      scaleTarget?: number;
      timeout?: number;
      canaryTrafficPercent?: number;
      model: ModelSpec;
    };
  };
}

export const loadYaml = <T>(file: string): T => parse(readFileSync(`${KSERVE_DIR}/${file}`, 'utf8')) as T;

/** The ClusterServingRuntime schema check (KServe's CRD, unknown fields refused). */
export const runtimeValidator = (): ((m: unknown) => string[]) =>
  crdValidator(CSR_CRD, 'serving.kserve.io', 'ClusterServingRuntime', 'v1alpha1');

const int32: Schema = { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
const int64: Schema = { type: 'integer' };

/**
 * ModelSpec's own fields (predictor_model.go ModelSpec, predictor.go PredictorExtensionSpec);
 * the rest of ModelSpec is the inline corev1.Container.
 */
const MODEL_OWN: Record<string, Schema> = {
  modelFormat: {
    type: 'object',
    properties: { name: { type: 'string', minLength: 1 }, version: { type: 'string' } },
    required: ['name'],
    additionalProperties: false,
  },
  runtime: { type: 'string' },
  storageUri: { type: 'string' },
  runtimeVersion: { type: 'string' },
  // constants.InferenceServiceProtocol: v1, v2, grpc-v1, grpc-v2.
  protocolVersion: { enum: ['v1', 'v2', 'grpc-v1', 'grpc-v2'] },
  storage: { type: 'object' },
};

/** ComponentExtensionSpec (component.go) plus `model`; the pod-spec fields inline there are not used here. */
const PREDICTOR: Schema = {
  type: 'object',
  properties: {
    minReplicas: { ...int32, minimum: 0 },
    maxReplicas: { ...int32, minimum: 0 },
    scaleTarget: int32,
    // ScaleMetric: cpu, memory, concurrency, rps.
    scaleMetric: { enum: ['cpu', 'memory', 'concurrency', 'rps'] },
    containerConcurrency: int64,
    timeout: int64,
    canaryTrafficPercent: { ...int64, minimum: 0, maximum: 100 },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    model: { type: 'object', required: ['modelFormat'] },
  },
  required: ['model'],
  additionalProperties: false,
};

const ISVC: Schema = {
  type: 'object',
  properties: {
    apiVersion: { const: 'serving.kserve.io/v1beta1' },
    kind: { const: 'InferenceService' },
    metadata: {
      type: 'object',
      properties: {
        // A DNS-1035 label: KServe builds host names and Service names from it.
        name: { type: 'string', pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
      required: ['name'],
      additionalProperties: false,
    },
    spec: {
      type: 'object',
      properties: { predictor: PREDICTOR },
      required: ['predictor'],
      additionalProperties: false,
    },
  },
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
};

/** Problems of one InferenceService as `path: message` lines (none = valid). */
export function inferenceServiceProblems(isvc: unknown): string[] {
  const v = new Validator();
  const out = v
    .validate(isvc, ISVC)
    .errors.map((e) => `${e.property.replace(/^instance\.?/, '')}: ${e.message}`);
  const model = (isvc as InferenceService).spec?.predictor?.model as unknown as Record<string, unknown>;
  if (model === undefined) return out;
  const own: Record<string, unknown> = {};
  const container: Record<string, unknown> = { name: 'kserve-container' };
  for (const [k, val] of Object.entries(model)) {
    if (k in MODEL_OWN) own[k] = val;
    else container[k] = val;
  }
  out.push(
    ...v
      .validate(own, { type: 'object', properties: MODEL_OWN, additionalProperties: false })
      .errors.map((e) => `spec.predictor.model${e.property.replace(/^instance/, '')}: ${e.message}`),
  );
  // The Kubernetes schema types the container fields but lists no closed set of them: refuse a
  // field Container does not have, as the API server's strict validation would.
  const known = new Set(CONTAINER_FIELDS);
  for (const k of Object.keys(container)) {
    if (!known.has(k))
      out.push(`spec.predictor.model: is not allowed to have the additional property "${k}"`);
  }
  try {
    new Container(container as never).validate();
  } catch (err) {
    out.push(`spec.predictor.model (container): ${(err as Error).message}`);
  }
  return out;
}

/** corev1.Container's fields (Kubernetes API reference, v1.31). */
const CONTAINER_FIELDS = [
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'ports',
  'envFrom',
  'env',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'volumeMounts',
  'volumeDevices',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
];

/**
 * The container KServe runs for `isvc` from `runtime` (KServe v0.16.0,
 * pkg/controller/v1beta1/inferenceservice/utils/utils.go): the InferenceService's args appended to
 * the runtime's (MergeRuntimeContainers), then `{{.Name}}`, `{{.Namespace}}` filled from the
 * InferenceService's metadata (ReplacePlaceholders: a Go template over the container's JSON).
 */
export function kserveContainer(
  runtime: ClusterServingRuntime,
  isvc: InferenceService,
  namespace = 'default',
): { args: string[]; env: Record<string, string> } {
  const c = runtime.spec.containers[0]!;
  const merged = { args: [...c.args, ...(isvc.spec.predictor.model.args ?? [])], env: c.env };
  const json = JSON.stringify(merged).replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, field: string) => {
    if (field === 'Name') return isvc.metadata.name;
    if (field === 'Namespace') return namespace;
    throw new Error(`runtime placeholder {{.${field}}} is not filled by this test`);
  });
  const filled = JSON.parse(json) as { args: string[]; env: { name: string; value: string }[] };
  return { args: filled.args, env: Object.fromEntries(filled.env.map((e) => [e.name, e.value])) };
}
