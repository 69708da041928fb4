/** A repository folder on this machine, read in place (zero copy): what inferd always did. */
import { join, resolve } from 'node:path';
import type { ConfigSection } from '../../core/model-config.js';
import { publicReason } from '../public-reason.js';
import { listModelNames, listVersions, modelExists, readModelConfig } from '../scan.js';
import type { ModelSnapshot, RepositorySource } from '../repository-source.js';

export class LocalSource implements RepositorySource {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  listModelNames(): Promise<string[]> {
    return listModelNames(this.location);
  }

  modelExists(name: string): Promise<boolean> {
    return modelExists(this.location, name);
  }

  async openModel(name: string, sections: readonly ConfigSection[]): Promise<ModelSnapshot> {
    const dir = join(this.location, name);
    const config = await readModelConfig(dir, name, sections);
    const versions = await listVersions(dir);
    return { config, versions, fetchVersion: (v) => Promise.resolve(join(dir, String(v))) };
  }

  publicText(text: string): string {
    return publicReason(text, this.location);
  }
}
