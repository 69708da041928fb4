/**
 * Kubernetes strategic merge patch, as kustomize applies it to the core kinds (kyaml's merge2):
 * maps merge key by key (`null` deletes a key); a list of objects with a patch merge key in the
 * Kubernetes API (containers by name, env by name, volumeMounts by mountPath …) merges item by
 * item, and `$patch: delete` in an item removes it; every other list is replaced whole.
 *
 * Order, as kustomize writes it: the patch's items first, in the patch's order (merged with the
 * base's item of the same key), then the base's items the patch does not name, in their order.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** patchMergeKey of the list fields of the core API objects (k8s.io/api types.go). */
const MERGE_KEYS: Record<string, (item: Obj) => string> = {
  containers: () => 'name',
  initContainers: () => 'name',
  ephemeralContainers: () => 'name',
  env: () => 'name',
  volumes: () => 'name',
  volumeMounts: () => 'mountPath',
  volumeDevices: () => 'devicePath',
  imagePullSecrets: () => 'name',
  hostAliases: () => 'ip',
  resourceClaims: () => 'name',
  topologySpreadConstraints: () => 'topologyKey',
  // A container's ports merge by containerPort, a Service's by port.
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port'),
};

function keyOf(field: string, item: unknown): string | undefined {
  const pick = MERGE_KEYS[field];
  if (!pick || !isObj(item)) return undefined;
  const key = pick(item);
  return item[key] === undefined ? undefined : `${key}=${String(item[key])}`;
}

function mergeList(field: string, base: unknown[], patch: unknown[]): unknown[] {
  const keyed = MERGE_KEYS[field] !== undefined && patch.every((p) => keyOf(field, p) !== undefined);
  if (!keyed || !base.every((b) => keyOf(field, b) !== undefined)) return structuredClone(patch);
  const byKey = new Map(base.map((b) => [keyOf(field, b)!, b]));
  const named = new Set<string>();
  const out: unknown[] = [];
  for (const p of patch as Obj[]) {
    const key = keyOf(field, p)!;
    named.add(key);
    if (p.$patch === 'delete') continue;
    const b = byKey.get(key);
    out.push(b === undefined ? stripDirectives(p) : strategicMerge(b, p));
  }
  for (const b of base) if (!named.has(keyOf(field, b)!)) out.push(structuredClone(b));
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k, x]) => !k.startsWith('$') && x !== null)
      .map(([k, x]) => [k, stripDirectives(x)]),
  );
}

/** base patched by patch; neither is modified. */
export function strategicMerge(base: unknown, patch: unknown): unknown {
  if (!isObj(base) || !isObj(patch)) return stripDirectives(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  for (const k of Object.keys(patch)) {
    if (k.startsWith('$') && k !== '$patch')
      throw new Error(`strategic merge directive ${k} is not supported`);
  }
  const out: Obj = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch') continue;
    if (v === null) delete out[k];
    else if (Array.isArray(v) && Array.isArray(out[k])) out[k] = mergeList(k, out[k] as unknown[], v);
    else if (isObj(v) && isObj(out[k])) out[k] = strategicMerge(out[k], v);
    else out[k] = stripDirectives(v);
  }
  return out;
}
