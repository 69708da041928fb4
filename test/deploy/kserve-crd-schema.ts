/**
 * Any vendored CustomResourceDefinition's openAPIV3Schema as a validator, with unknown fields
 * refused where the API server prunes them (closeObjects, test/deploy/knative-schema.ts): a
 * misspelled field fails here as it does under `kubectl apply --validate=strict`. Used for the
 * KServe, KEDA and Prometheus Operator CRDs of deploy/.
 */
import { readFileSync } from 'node:fs';
import { Validator } from 'jsonschema';
import { parseAllDocuments } from 'yaml';
import { closeObjects, type ManifestCheck } from './knative-schema.js';

type Schema = { [key: string]: unknown };

interface Crd {
  kind: string;
  spec: {
    group: string;
    names: { kind: string };
    versions: { name: string; schema: { openAPIV3Schema: Schema } }[];
  };
}

/** The CRD of `group`/`kind` in the file (some files start with an empty `---` document). */
function readCrd(path: string, group: string, kind: string): Crd {
  const docs = parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as Crd | null);
  const crd = docs.find((d) => d?.kind === 'CustomResourceDefinition');
  if (!crd || crd.spec.group !== group || crd.spec.names.kind !== kind) {
    throw new Error(`${path} is not the ${group} ${kind} CRD`);
  }
  return crd;
}

/** Validates `apiVersion: group/version, kind` objects; returns `path: message` lines (none = valid). */
export function crdValidator(path: string, group: string, kind: string, version: string): ManifestCheck {
  const crd = readCrd(path, group, kind);
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${path} has no ${version} version`);
  const schema = closeObjects(v.schema.openAPIV3Schema) as Schema;
  const validator = new Validator();
  return (manifest) => {
    const m = manifest as { apiVersion?: unknown; kind?: unknown };
    const head: string[] = [];
    if (m.apiVersion !== `${group}/${version}`) head.push(`apiVersion: is not ${group}/${version}`);
    if (m.kind !== kind) head.push(`kind: is not ${kind}`);
    return [
      ...head,
      ...validator
        .validate(manifest, schema)
        .errors.map((e) => `${e.property.replace(/^instance\.?/, '')}: ${e.message}`),
    ];
  };
}
