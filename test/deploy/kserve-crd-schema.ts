/**
 * Any vendored CustomResourceDefinition's openAPIV3Schema as a validator, with the API server's
 * structural-schema semantics: unknown fields refused where the server prunes them (closeObjects,
 * test/deploy/knative-schema.ts), so a misspelled field fails here as it does under
 * `kubectl apply --validate=strict`; objects marked x-kubernetes-preserve-unknown-fields stay open;
 * x-kubernetes-int-or-string fields take an integer or a string (controller-gen writes the anyOf
 * beside every one); int32/int64 formats are range-checked as the server does. Used for the
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

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
// A JS number holds int64's range only approximately: beyond 2^53 it has already lost digits.
const INT64 = { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };

/** True for a non-number (the `type` keyword reports those) or an integer within the range. */
function intIn(x: unknown, range: { min: number; max: number }): boolean {
  return typeof x !== 'number' || (Number.isInteger(x) && x >= range.min && x <= range.max);
}

/** Validates `apiVersion: group/version, kind` objects; returns `path: message` lines (none = valid). */
export function crdValidator(path: string, group: string, kind: string, version: string): ManifestCheck {
  const crd = readCrd(path, group, kind);
  const v = crd.spec.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${path} has no ${version} version`);
  const schema = closeObjects(v.schema.openAPIV3Schema) as Schema;
  const validator = new Validator();
  // jsonschema ignores formats it does not know; the API server refuses an out-of-range int32/int64.
  validator.customFormats.int32 = (x: unknown) => intIn(x, INT32);
  validator.customFormats.int64 = (x: unknown) => intIn(x, INT64);
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
