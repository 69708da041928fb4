/**
 * The repository API's load with an override (Triton's model repository extension,
 * docs/protocol/extension_model_repository.md): `parameters.config` is a model config in Triton's
 * JSON, and `file:<path>` parameters are the model's files (e.g. `file:1/model.onnx`). With files,
 * the model is loaded from those files only (and a config is required); with a config only, from
 * the repository's files under that config. Files are written into a staging folder of their own
 * (never into the user's repository), one per load; the previous one of the model is removed once
 * the next load is done.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { InferdError } from '../errors.js';
import { tritonModelConfigType } from './pbtxt/triton-schema.js';
import type { ConfigSection } from '../core/model-config.js';
import { parseConfigFile } from './config-file.js';
import { listVersions } from './scan.js';
import type { ModelSnapshot, RepositorySource } from './repository-source.js';

export interface LoadOverride {
  /** A model config in Triton's JSON shape (the `config` parameter). */
  config?: string;
  /** Path inside the model folder (`1/model.onnx`) → content. */
  files?: ReadonlyMap<string, Uint8Array>;
}

/** Most files one load may carry, and path depth: far above a model folder's few files. */
const MAX_OVERRIDE_FILES = 256;
const MAX_PATH_DEPTH = 8;
const MAX_PATH_LENGTH = 1024;

/** A relative path that stays inside the model folder: plain components, no `..`, no absolute path. */
function checkOverridePath(path: string): string[] {
  const parts = path.split('/');
  const ok =
    path.length > 0 &&
    path.length <= MAX_PATH_LENGTH &&
    parts.length <= MAX_PATH_DEPTH &&
    parts.every((p) => p !== '' && p !== '.' && p !== '..' && !/[\\\0]/.test(p));
  if (!ok) {
    throw new InferdError(
      'invalid_request',
      `'file:${path.slice(0, 80)}' must name a file inside the model folder, e.g. file:1/model.onnx (no '..', no absolute path, at most ${MAX_PATH_DEPTH} levels)`,
    );
  }
  return parts;
}

const INTEGER_TYPES = new Set([
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
]);

/**
 * An override config is Triton's ModelConfig in protobuf's JSON mapping, where integers may be
 * strings (`{"max_batch_size":"16"}`, as Triton's own clients send): those become numbers, field by
 * field of the vendored message type. Anything else (inferd's own fields, bad JSON) is left as it
 * is for the config parser to judge.
 */
function protoJsonIntegers(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  const fix = (value: unknown, type: protobuf.Type): unknown => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const field = type.fields[key];
      const one = (x: unknown): unknown => {
        if (!field) return x;
        if (INTEGER_TYPES.has(field.type) && typeof x === 'string' && /^-?\d+$/.test(x)) return Number(x);
        return field.resolvedType instanceof protobuf.Type ? fix(x, field.resolvedType) : x;
      };
      out[key] = Array.isArray(v) && field?.repeated ? v.map(one) : field?.map ? v : one(v);
    }
    return out;
  };
  return JSON.stringify(fix(json, tritonModelConfigType()));
}

export class OverrideStaging {
  /** The staging folder in use by each model's current override, removed when replaced. */
  private readonly current = new Map<string, string>();
  /** The staging folder of a load in progress (loads of one model are serialised). */
  private readonly pending = new Map<string, string>();

  constructor(private readonly root: string) {}

  /** The snapshot to load `name` from; throws `invalid_config` / `invalid_request` naming the problem. */
  async snapshot(
    name: string,
    override: LoadOverride,
    source: RepositorySource,
    sections: readonly ConfigSection[],
  ): Promise<ModelSnapshot> {
    const files = override.files ?? new Map<string, Uint8Array>();
    if (files.size > 0 && override.config === undefined) {
      throw new InferdError(
        'invalid_request',
        `loading model '${name}' with files needs a 'config' parameter too`,
      );
    }
    if (files.size > MAX_OVERRIDE_FILES) {
      throw new InferdError(
        'invalid_request',
        `at most ${MAX_OVERRIDE_FILES} files may be loaded at once; got ${files.size}`,
      );
    }
    for (const path of files.keys()) checkOverridePath(path);
    const config =
      override.config === undefined
        ? undefined
        : parseConfigFile(
            {
              name: 'config.json',
              text: protoJsonIntegers(override.config),
              label: "the 'config' parameter",
            },
            name,
            sections,
          );
    if (files.size === 0) {
      const base = await source.openModel(name, sections);
      return { ...base, config: config ?? base.config };
    }
    const dir = join(this.root, `${name}-${randomBytes(6).toString('hex')}`);
    try {
      for (const [path, content] of files) {
        const target = join(dir, ...checkOverridePath(path));
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
      }
      const versions = await listVersions(dir);
      this.pending.set(name, dir);
      return { config: config!, versions, fetchVersion: (v) => Promise.resolve(join(dir, String(v))) };
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      if (err instanceof InferdError) throw err;
      throw new InferdError('internal', `the model files could not be staged: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** After the load: the staging folder of the override now serving stays, the one it replaced goes. */
  async settle(name: string, served: boolean): Promise<void> {
    const next = this.pending.get(name);
    this.pending.delete(name);
    if (next === undefined) return;
    if (!served) {
      await rm(next, { recursive: true, force: true });
      return;
    }
    const previous = this.current.get(name);
    this.current.set(name, next);
    if (previous !== undefined) await rm(previous, { recursive: true, force: true });
  }

  /** After an unload or a load from the repository: the model serves nothing staged any more. */
  async release(name: string): Promise<void> {
    const previous = this.current.get(name);
    this.current.delete(name);
    if (previous !== undefined) await rm(previous, { recursive: true, force: true });
  }
}
