/**
 * Triton's response cache: a model that opts in (`response_cache { enable: true }`) answers a
 * request identical to an earlier one from memory, without running the model.
 *
 * - Key: SHA-256 of the model, the loaded version (a reload of version 1 is a new version here, so
 *   an entry never outlives the model file it came from), the requested outputs with their
 *   parameters (`binary_data`, `classification`, …) and every input's name, datatype, shape and
 *   bytes. Request parameters (`timeout`, `priority`) do not change a result and are not in it.
 * - Bounded by bytes (the settings' cacheSizeBytes, shared by every model), least recently used
 *   first out; an entry larger than the whole budget is not stored.
 * - Only successful responses are stored. Stored and returned tensors are copies: a response's
 *   buffers may be transferred to a worker later (a pipeline passes outputs on as inputs).
 */
import { createHash, type Hash } from 'node:crypto';
import { BytesData, type Tensor } from '../core/tensor.js';

/** Per-entry overhead counted against the budget besides the tensors (key, names, shapes). */
const ENTRY_OVERHEAD_BYTES = 256;

interface Entry {
  outputs: Tensor[];
  bytes: number;
}

export interface RequestShape {
  inputs: readonly Tensor[];
  outputs?: ReadonlyArray<{ name: string; parameters?: Record<string, unknown> }>;
}

export class ResponseCache {
  /** Map order is recency: a hit moves its entry to the end; eviction takes from the front. */
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  /** A number per loaded version object (one load of one version), for the key. */
  private readonly loads = new WeakMap<object, number>();
  private nextLoad = 1;
  evictions = 0;

  constructor(readonly maxBytes: number) {}

  get enabled(): boolean {
    return this.maxBytes > 0;
  }

  /** Bytes held (tensors plus per-entry overhead). */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The key of a request to one loaded version (`load` is that version's object: a reload gives a
   * new one). Read before the request is queued: the scheduler then owns (and may move) its inputs.
   */
  key(model: string, version: string, load: object, req: RequestShape): string {
    let id = this.loads.get(load);
    if (id === undefined) {
      id = this.nextLoad++;
      this.loads.set(load, id);
    }
    const h = createHash('sha256');
    field(h, model);
    field(h, `${version}#${id}`);
    const outputs = (req.outputs ?? []).map((o) => [o.name, sortedParams(o.parameters)] as const);
    outputs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    field(h, JSON.stringify(outputs));
    const inputs = [...req.inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const t of inputs) {
      field(h, `${t.name}\u0000${t.datatype}\u0000${t.shape.join(',')}`);
      if (t.data instanceof BytesData) {
        // Element sizes too: ["ab", "c"] and ["a", "bc"] have the same bytes.
        const sizes = new Uint32Array(t.data.length);
        for (let i = 0; i < sizes.length; i += 1) sizes[i] = t.data.sizeOf(i);
        h.update(new Uint8Array(sizes.buffer));
        h.update(t.data.bytes.subarray(t.data.offsets[0], t.data.offsets[t.data.length]));
      } else {
        h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      }
    }
    return h.digest('base64');
  }

  /** A copy of the stored outputs, the entry now the most recently used; undefined on a miss. */
  get(key: string): Tensor[] | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.outputs.map(copyTensor);
  }

  /** Stores a copy of a successful response's outputs, evicting the least recently used to fit. */
  set(key: string, outputs: readonly Tensor[]): void {
    const bytes = ENTRY_OVERHEAD_BYTES + outputs.reduce((n, t) => n + tensorBytes(t), 0);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.used -= old.bytes;
    }
    for (const [k, e] of this.entries) {
      if (this.used + bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.used -= e.bytes;
      this.evictions += 1;
    }
    this.entries.set(key, { outputs: outputs.map(copyTensor), bytes });
    this.used += bytes;
  }
}

/** Length-prefixed, so that ("ab", "c") and ("a", "bc") hash differently. */
function field(h: Hash, s: string): void {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.byteLength);
  h.update(len);
  h.update(b);
}

function sortedParams(p: Record<string, unknown> | undefined): Array<[string, unknown]> {
  return Object.entries(p ?? {}).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function tensorBytes(t: Tensor): number {
  const data =
    t.data instanceof BytesData ? t.data.byteLength + t.data.offsets.byteLength : t.data.byteLength;
  return data + t.name.length * 2 + t.shape.length * 8;
}

function copyTensor(t: Tensor): Tensor {
  const data = t.data instanceof BytesData ? copyBytes(t.data) : (t.data.slice() as Tensor['data']);
  const out: Tensor = { name: t.name, datatype: t.datatype, shape: [...t.shape], data };
  if (t.parameters) out.parameters = { ...t.parameters };
  return out;
}

/** Only the elements' bytes, offsets from 0; text elements keep their text view (strings are immutable). */
function copyBytes(d: BytesData): BytesData {
  const base = d.offsets[0]!;
  const offsets = d.offsets.map((o) => o - base);
  const bytes = d.bytes.slice(base, d.offsets[d.length]);
  return new BytesData(bytes, offsets, d.firstNonUtf8() < 0 ? d.toStrings() : undefined);
}
