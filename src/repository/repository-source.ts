/**
 * Where a model repository lives: a local folder, or an object storage bucket (S3, GCS) in the same
 * layout (Triton's `filesystem/implementations/{local,s3,gcs}`). The model manager sees only this
 * interface (implementations in source/): it lists model names, opens one model (its config and version numbers, read once per
 * load) and asks for one version as a local folder the backends can read.
 */
import type { ConfigSection, ModelConfig } from '../core/model-config.js';

export interface ModelSnapshot {
  /** The model's config.json, parsed (defaults when the model has none). */
  config: ModelConfig;
  /** Integer-named version folders, ascending. */
  versions: number[];
  /**
   * A local folder holding version `v` (`<folder>/../` holds the model's own files, config.json
   * first, as in the repository). A local repository answers its own folder (zero copy); an object
   * store downloads into its cache first and answers only a complete, verified copy. Throws an
   * InferdError whose message a person can act on.
   */
  fetchVersion(v: number): Promise<string>;
}

export interface RepositorySource {
  /** The repository as the user named it: an absolute folder or `s3://bucket/prefix`. */
  readonly location: string;
  /** Model names (folder names), sorted; hidden ones skipped. */
  listModelNames(): Promise<string[]>;
  modelExists(name: string): Promise<boolean>;
  /**
   * Reads the model's folder again (a reload sees what the repository holds now); its config.json
   * is validated with the sections other parts of the server own.
   */
  openModel(name: string, sections: readonly ConfigSection[]): Promise<ModelSnapshot>;
  /** A load failure's text as clients may read it: no local paths (public-reason.ts). */
  publicText(text: string): string;
}
