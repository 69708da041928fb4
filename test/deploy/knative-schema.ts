/**
 * The Knative Serving `Service` v1 schema as a JSON Schema a validator can enforce, from the CRD
 * vendored verbatim in deploy/cloudrun/schemas/knative-serving/.
 *
 * A CRD's openAPIV3Schema does not forbid unknown fields: the API server prunes them silently, and
 * rejects them only under strict field validation (`kubectl apply --validate=strict`, kubectl's
 * default against servers with server-side field validation). Cloud Run's API rejects them too. So every object that lists its
 * properties and is not marked `x-kubernetes-preserve-unknown-fields` is closed here
 * (`additionalProperties: false`): a misspelled field is an error, as it is for the API server
 * in strict mode.
 */
import { readFileSync } from 'node:fs';
import { Validator } from 'jsonschema';
import { parse } from 'yaml';

const CRD_PATH = 'deploy/cloudrun/schemas/knative-serving/service-crd.yaml';

type Schema = { [key: string]: unknown };

function isSchema(v: unknown): v is Schema {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copy of a CRD structural schema with unknown fields forbidden where the API server prunes them. */
export function closeObjects(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(closeObjects);
  if (!isSchema(node)) return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    // `properties` maps field names to schemas: recurse into the schemas, keep the names.
    out[k] =
      k === 'properties' && isSchema(v)
        ? Object.fromEntries(Object.entries(v).map(([name, s]) => [name, closeObjects(s)]))
        : closeObjects(v);
  }
  if (
    isSchema(node.properties) &&
    node['x-kubernetes-preserve-unknown-fields'] !== true &&
    node.additionalProperties === undefined
  ) {
    out.additionalProperties = false;
  }
  return out;
}

interface Crd {
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
}

/** Validates one parsed manifest; returns the errors as `path: message` lines (none = valid). */
export type ManifestCheck = (manifest: unknown) => string[];

export function knativeServiceValidator(): ManifestCheck {
  const crd = parse(readFileSync(CRD_PATH, 'utf8')) as Crd;
  if (crd.spec.group !== 'serving.knative.dev' || crd.spec.names.kind !== 'Service') {
    throw new Error(`${CRD_PATH} is not the serving.knative.dev Service CRD`);
  }
  const v1 = crd.spec.versions.find((v) => v.name === 'v1');
  if (!v1) throw new Error(`${CRD_PATH} has no v1 version`);
  const schema = closeObjects(v1.schema.openAPIV3Schema) as Schema;
  const validator = new Validator();
  return (manifest) =>
    validator
      .validate(manifest, schema)
      .errors.map((e) => `${e.property.replace(/^instance\.?/, '')}: ${e.message}`);
}
