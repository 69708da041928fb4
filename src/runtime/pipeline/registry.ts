/**
 * Named TypeScript step functions a pipeline config can call (`"function": "ocr.decode_image"`).
 * A step declares its input and output tensor names so a pipeline's wiring is checked when the
 * model loads, not on the first request. `create` validates the step's `parameters` once (bad
 * parameters fail the load with `invalid_config`) and returns the runner used for every request.
 */
import type { Logger } from 'pino';
import type { Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import type { ModelInvoker } from '../backend.js';

/** What a runner gets on every request. */
export interface StepContext {
  /** Calls other models of the repository through the scheduler (batching, metrics, stats). */
  readonly invoker: ModelInvoker;
  /** Aborted when the client goes away; pass it on to invoker requests. */
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  /** The pipeline model this step belongs to (for error messages). */
  readonly modelName: string;
}

/** What `create` gets once, at load. */
export interface StepLoadContext {
  readonly modelName: string;
  /** Absolute path of the pipeline's version folder; relative file parameters resolve against it. */
  readonly versionDir: string;
  readonly logger: Logger;
}

/** Step-local input name → tensor, and step-local output name → tensor. */
export type StepTensors = Record<string, Tensor>;

export type StepRunner = (inputs: StepTensors, ctx: StepContext) => Promise<StepTensors>;

export interface StepDefinition {
  /** Dotted, namespaced by package, e.g. `ocr.decode_image`. */
  readonly name: string;
  /** Step-local names of required inputs. */
  readonly inputs: readonly string[];
  /** Step-local names of inputs that may be left unwired. */
  readonly optionalInputs?: readonly string[];
  /** Step-local names of the outputs the runner always returns. */
  readonly outputs: readonly string[];
  readonly description?: string;
  /**
   * The models the runner calls through `ctx.invoker`, read from its (not yet validated)
   * `parameters`. The model manager refuses a pipeline whose calls come back to it (a cycle would
   * hold its concurrency slots forever), so a step that calls models must name them here.
   */
  models?(parameters: Record<string, unknown>): string[];
  create(parameters: Record<string, unknown>, ctx: StepLoadContext): StepRunner | Promise<StepRunner>;
}

export class StepRegistry {
  private readonly steps = new Map<string, StepDefinition>();

  register(def: StepDefinition): this {
    if (this.steps.has(def.name)) {
      throw new InferdError('internal', `pipeline step '${def.name}' is registered twice`);
    }
    this.steps.set(def.name, def);
    return this;
  }

  registerAll(defs: Iterable<StepDefinition>): this {
    for (const d of defs) this.register(d);
    return this;
  }

  get(name: string): StepDefinition | undefined {
    return this.steps.get(name);
  }

  names(): string[] {
    return [...this.steps.keys()].sort();
  }
}
