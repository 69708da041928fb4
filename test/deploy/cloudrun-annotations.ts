/**
 * Annotations Cloud Run reads, per level, from its YAML reference (cloud.google.com/run/docs/
 * reference/yaml/v1, "Cloud Run service YAML"). The Knative schema types annotations only as
 * strings, so a misspelled name (`cpu-throtling`) would pass it and be ignored; names in the
 * reserved prefixes are checked against this list instead, and the values inferd's manifests use
 * against what each accepts.
 */

/** Prefixes Cloud Run reserves: an annotation under them must be one it knows. */
const RESERVED_PREFIXES = ['run.googleapis.com/', 'autoscaling.knative.dev/', 'serving.knative.dev/'];

const BOOLEAN = /^(true|false)$/;
const COUNT = /^(0|[1-9]\d{0,3})$/;

/** metadata.annotations of the Service. `undefined` = any string (free text or JSON). */
export const SERVICE_ANNOTATIONS: Readonly<Record<string, RegExp | undefined>> = {
  'run.googleapis.com/custom-audiences': undefined,
  'run.googleapis.com/launch-stage': /^(ALPHA|BETA|GA)$/,
  'run.googleapis.com/description': undefined,
  'run.googleapis.com/ingress': /^(all|internal|internal-and-cloud-load-balancing)$/,
  'run.googleapis.com/binary-authorization': undefined,
  'run.googleapis.com/binary-authorization-breakglass': undefined,
  'run.googleapis.com/minScale': COUNT,
  'run.googleapis.com/maxScale': COUNT,
  'run.googleapis.com/function-target': undefined,
  'run.googleapis.com/invoker-iam-disabled': BOOLEAN,
  'run.googleapis.com/iap-enabled': BOOLEAN,
  'run.googleapis.com/scalingMode': /^(automatic|manual)$/,
  'run.googleapis.com/manualInstanceCount': COUNT,
};

/** spec.template.metadata.annotations (the revision). */
export const REVISION_ANNOTATIONS: Readonly<Record<string, RegExp | undefined>> = {
  'autoscaling.knative.dev/minScale': COUNT,
  'autoscaling.knative.dev/maxScale': COUNT,
  'run.googleapis.com/cpu-throttling': BOOLEAN,
  'run.googleapis.com/startup-cpu-boost': BOOLEAN,
  'run.googleapis.com/sessionAffinity': BOOLEAN,
  'run.googleapis.com/cloudsql-instances': undefined,
  'run.googleapis.com/execution-environment': /^(gen1|gen2)$/,
  'run.googleapis.com/vpc-access-connector': undefined,
  'run.googleapis.com/vpc-access-egress': /^(all-traffic|private-ranges-only)$/,
  'run.googleapis.com/network-interfaces': undefined,
  'run.googleapis.com/encryption-key': undefined,
  'run.googleapis.com/custom-audiences': undefined,
  'run.googleapis.com/container-dependencies': undefined,
};

/** Problems of one annotation map as `name: what is wrong` lines (none = valid). */
export function annotationProblems(
  annotations: Record<string, unknown> | undefined,
  known: Readonly<Record<string, RegExp | undefined>>,
): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(annotations ?? {})) {
    if (typeof value !== 'string')
      out.push(`${name}: value must be a string (quote it), got ${JSON.stringify(value)}`);
    if (!RESERVED_PREFIXES.some((p) => name.startsWith(p))) continue;
    if (!(name in known)) {
      out.push(`${name}: not a Cloud Run annotation at this level`);
      continue;
    }
    const pattern = known[name];
    if (pattern && typeof value === 'string' && !pattern.test(value)) {
      out.push(`${name}: ${JSON.stringify(value)} does not match ${pattern}`);
    }
  }
  return out;
}
