/**
 * deploy/kserve/*.yaml as KServe reads them, for the tests: the ClusterServingRuntime and the
 * InferenceServices validated against KServe's own CRDs (vendored verbatim in
 * deploy/kserve/schemas/kserve/, the one source of truth for their fields), and the container
 * KServe would run for an InferenceService (its placeholders filled, its args appended) so that
 * the tests can run that very command line.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { crdValidator } from './kserve-crd-schema.js';
import type { ManifestCheck } from './knative-schema.js';

export const KSERVE_DIR = 'deploy/kserve';
const CSR_CRD = `${KSERVE_DIR}/schemas/kserve/serving.kserve.io_clusterservingruntimes.yaml`;
const ISVC_CRD = `${KSERVE_DIR}/schemas/kserve/serving.kserve.io_inferenceservices.yaml`;

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
  ports: { name: string; containerPort: number; protocol?: string }[];
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
export const runtimeValidator = (): ManifestCheck =>
  crdValidator(CSR_CRD, 'serving.kserve.io', 'ClusterServingRuntime', 'v1alpha1');

/**
 * KServe's webhook refuses an InferenceService name that is not a DNS-1035 label
 * (IsvcNameFmt, pkg/apis/serving/v1beta1/inference_service_validation.go): it becomes host and
 * Service names. The CRD leaves metadata to the API server, which does not check that.
 */
const ISVC_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The InferenceService check: KServe's own CRD (v1beta1, unknown fields refused at any depth,
 * pod and container fields typed) plus the webhook's name rule. Loading the 1 MB CRD takes a
 * few seconds: build it once per test file.
 */
export function inferenceServiceValidator(): ManifestCheck {
  const crd = crdValidator(ISVC_CRD, 'serving.kserve.io', 'InferenceService', 'v1beta1');
  return (manifest) => {
    const out = crd(manifest);
    const name = (manifest as { metadata?: { name?: unknown } }).metadata?.name;
    if (typeof name !== 'string' || !ISVC_NAME.test(name)) {
      out.push(`metadata.name: ${JSON.stringify(name)} is not a DNS-1035 label (KServe refuses it)`);
    }
    return out;
  };
}

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
