/**
 * Validates a Kubernetes manifest offline: core API objects against the OpenAPI schemas of
 * Kubernetes that npm `kubernetes-models` compiles (its `validate()`), custom resources against
 * the openAPIV3Schema of their CRD, vendored verbatim and registered with registerCrdSchema()
 * (closed against unknown fields the way the API server's strict field validation is, as
 * test/deploy/knative-schema.ts does).
 *
 * kubernetes-models' schemas leave objects open: a misspelled field of a core object is not an
 * error here (the API server would prune it, or reject it under --validate=strict). The manifest
 * tests read every field they rely on, so a misspelling fails those tests instead.
 */
import * as admissionregistration from 'kubernetes-models/admissionregistration.k8s.io/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { Validator } from 'jsonschema';
import { closeObjects } from './knative-schema.js';

type Schema = { [key: string]: unknown };

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: unknown): { validate(): void };
}

function isModelClass(v: unknown): v is ModelClass {
  const c = v as Partial<ModelClass> | undefined;
  return typeof v === 'function' && typeof c?.apiVersion === 'string' && typeof c.kind === 'string';
}

/** apiVersion/kind → the kubernetes-models class of every top-level kind of these groups. */
const MODELS = new Map<string, ModelClass>();
for (const group of [core, apps, policy, autoscaling, batch, networking, rbac, admissionregistration]) {
  for (const v of Object.values(group)) if (isModelClass(v)) MODELS.set(`${v.apiVersion}/${v.kind}`, v);
}

const CRDS = new Map<string, Schema>();
const validator = new Validator();

/**
 * Registers the schema of a custom resource: `schema` is the CRD version's openAPIV3Schema as
 * vendored (unknown fields are closed here). A second registration of the same kind replaces it.
 */
export function registerCrdSchema(apiVersion: string, kind: string, schema: Schema): void {
  CRDS.set(`${apiVersion}/${kind}`, closeObjects(schema) as Schema);
}

/** The problems of one manifest as `path: message` lines; none = valid. An unknown kind is one. */
export function validateManifest(obj: unknown): string[] {
  const o = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string')
    return ['apiVersion and kind are required'];
  const id = `${o.apiVersion}/${o.kind}`;
  const model = MODELS.get(id);
  if (model) {
    try {
      new model(obj).validate();
      return [];
    } catch (err) {
      const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors;
      if (!errors) return [String(err)];
      return errors.map((e) => `${e.instancePath || '/'}: ${e.message ?? 'invalid'}`);
    }
  }
  const schema = CRDS.get(id);
  if (!schema) return [`${id}: no schema (not a core kind here, no CRD registered)`];
  return validator
    .validate(obj, schema)
    .errors.map((e) => `${e.property.replace(/^instance\.?/, '')}: ${e.message}`);
}
