/**
 * Triton's `ensemble_scheduling` → inferd's `pipeline` (runtime/pipeline): each ensemble step is a
 * model step with the same input_map (model input → ensemble tensor) and output_map (model output →
 * ensemble tensor). Triton runs steps as their inputs become ready, whatever order they are
 * written in; the pipeline runs them in order, so they are put in an order where every step comes
 * after the steps that produce its inputs. A tensor read by more than one step (or an ensemble
 * output that a step also reads) is copied for the model that reads it (`keep_inputs`).
 */
import type { InferdError } from '../errors.js';

type Obj = Record<string, unknown>;
type Bad = (path: PropertyKey[], why: string) => InferdError;

interface Step {
  index: number;
  model: string;
  version?: string;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/** Most steps in one ensemble: far above real ensembles (a handful), bounds the ordering's work. */
const MAX_STEPS = 256;

function stringMap(v: unknown, path: PropertyKey[], bad: Bad): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(path, 'must be a map of tensor names');
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string' || x === '' || k === '')
      throw bad([...path, k], 'must map a tensor name to a tensor name');
  }
  return v as Record<string, string>;
}

export function ensembleToPipeline(raw: unknown, outputs: readonly string[], bad: Bad): Obj {
  const es = (raw ?? {}) as Obj;
  const list = es.step;
  if (!Array.isArray(list) || list.length === 0) throw bad(['step'], 'an ensemble needs at least one step');
  if (list.length > MAX_STEPS) throw bad(['step'], `an ensemble may have at most ${MAX_STEPS} steps`);
  const steps: Step[] = list.map((s: unknown, i) => {
    const o = (s ?? {}) as Obj;
    if (typeof o.model_name !== 'string' || o.model_name === '')
      throw bad(['step', i, 'model_name'], 'is required');
    const v = o.model_version;
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < -1)) {
      throw bad(['step', i, 'model_version'], 'must be -1 (the latest) or a version number');
    }
    if (typeof o.model_namespace === 'string' && o.model_namespace !== '') {
      throw bad(['step', i, 'model_namespace'], 'is reserved and must not be set');
    }
    return {
      index: i,
      model: o.model_name,
      version: typeof v === 'number' && v >= 0 ? String(v) : undefined,
      inputs: stringMap(o.input_map, ['step', i, 'input_map'], bad),
      outputs: stringMap(o.output_map, ['step', i, 'output_map'], bad),
    };
  });

  // Order: a step runs once every tensor it reads is produced by an earlier step or is not
  // produced by any step (an ensemble input; the pipeline checks those against "input").
  const producedBy = new Map<string, number>();
  for (const s of steps) {
    for (const t of Object.values(s.outputs)) {
      if (producedBy.has(t))
        throw bad(['step', s.index, 'output_map'], `tensor '${t}' is produced by two steps`);
      producedBy.set(t, s.index);
    }
  }
  const done = new Set<number>();
  const ordered: Step[] = [];
  while (ordered.length < steps.length) {
    const next = steps.find(
      (s) =>
        !done.has(s.index) &&
        Object.values(s.inputs).every((t) => !producedBy.has(t) || done.has(producedBy.get(t)!)),
    );
    if (!next) {
      const stuck = steps.find((s) => !done.has(s.index))!;
      throw bad(['step', stuck.index, 'input_map'], "the steps read each other's outputs in a cycle");
    }
    done.add(next.index);
    ordered.push(next);
  }

  // How often each tensor is read by a step: a model step owns what it is handed, so a tensor
  // read again later must be copied.
  const reads = new Map<string, number>();
  for (const s of ordered)
    for (const t of new Set(Object.values(s.inputs))) reads.set(t, (reads.get(t) ?? 0) + 1);
  const seen = new Map<string, number>();
  return {
    steps: ordered.map((s) => {
      const shared = [...new Set(Object.values(s.inputs))].some((t) => {
        const n = (seen.get(t) ?? 0) + 1;
        seen.set(t, n);
        return n < (reads.get(t) ?? 0) || outputs.includes(t);
      });
      return {
        name: `${s.model}#${s.index}`,
        model: s.model,
        ...(s.version !== undefined ? { version: s.version } : {}),
        inputs: s.inputs,
        outputs: s.outputs,
        ...(shared ? { keep_inputs: true } : {}),
      };
    }),
  };
}
