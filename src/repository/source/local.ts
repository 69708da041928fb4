/**
 * A repository folder on this machine, read in place (zero copy): what inferd always did.
 *
 * With a model name (`--model-name`, KServe) the folder may instead be one model's own folder:
 * KServe's storage initializer writes the objects under a storageUri straight into /mnt/models,
 * so a storageUri naming one model (`s3://bucket/models/spam`) gives
 *   /mnt/models/config.json, /mnt/models/1/model.onnx
 * and that model is served under the InferenceService's name, the one its clients use in
 * /v2/models/{name}/infer. A storageUri naming a repository root gives model folders, served as
 * they are (Triton's runtime does the same with --model-store=/mnt/models).
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ConfigSection } from '../../core/model-config.js';
import { InferdError } from '../../errors.js';
import { publicReason } from '../public-reason.js';
import { isFolder, listModelNames, listVersions, modelExists, readModelConfig } from '../scan.js';
import type { ModelSnapshot, RepositorySource } from '../repository-source.js';

/**
 * One model's folder: config.pbtxt, config.json or an integer-named version folder at the top. A repository's
 * model folders are never named by digits alone in this mode (they would read as versions).
 */
async function isModelFolder(dir: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new InferdError(
      'invalid_config',
      `model repository '${dir}' cannot be read: ${(err as Error).message}`,
    );
  }
  if (entries.some((e) => e.name === 'config.json' || e.name === 'config.pbtxt')) return true;
  for (const e of entries) if (/^\d+$/.test(e.name) && (await isFolder(dir, e))) return true;
  return false;
}

export class LocalSource implements RepositorySource {
  readonly location: string;

  /** `modelName`: serve the folder as that one model when it is a model's folder (see above). */
  constructor(
    root: string,
    private readonly modelName?: string,
  ) {
    this.location = resolve(root);
  }

  /** The model served from the folder itself, or undefined for a repository of model folders. */
  private async singleModel(): Promise<string | undefined> {
    if (this.modelName === undefined) return undefined;
    return (await isModelFolder(this.location)) ? this.modelName : undefined;
  }

  async listModelNames(): Promise<string[]> {
    const single = await this.singleModel();
    return single !== undefined ? [single] : listModelNames(this.location);
  }

  async modelExists(name: string): Promise<boolean> {
    const single = await this.singleModel();
    return single !== undefined ? name === single : modelExists(this.location, name);
  }

  async openModel(name: string, sections: readonly ConfigSection[]): Promise<ModelSnapshot> {
    const single = await this.singleModel();
    if (single !== undefined && name !== single) {
      throw new InferdError(
        'model_not_found',
        `model '${name}' is not in the repository; it serves '${single}'`,
      );
    }
    const dir = single !== undefined ? this.location : join(this.location, name);
    // The served name is the InferenceService's: a config.json `name` written for the repository
    // layout (models/spam/config.json says "spam") is not compared with it.
    const config = await readModelConfig(dir, name, sections, { checkName: single === undefined });
    const versions = await listVersions(dir);
    return { config, versions, fetchVersion: (v) => Promise.resolve(join(dir, String(v))) };
  }

  publicText(text: string): string {
    return publicReason(text, this.location);
  }
}
