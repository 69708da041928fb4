/**
 * A model instance that runs on the event loop's own thread: for models whose whole batch executes
 * in well under the cost of a round trip to a worker thread (tuning.ts INLINE_MAX_US). On the
 * shared 2-core bench machine a trivial graph computed a 64-row batch in 12 µs while each
 * round trip to its worker took ~2.5 ms (the woken threads wait for a core), and the worker was
 * 96% idle (bench/results/fast-defaults.md). Inline, an execution blocks the event loop for about
 * as long as parsing one small request body. Same interface as OnnxInstance; one execution at a time.
 */
import type ort from 'onnxruntime-node';
import type { TensorSpec } from '../../core/model.js';
import { InferdError } from '../../errors.js';
import type { ExecPoint } from '../tuning.js';
import type { WireTensor } from './convert.js';
import type { SessionSettings } from './protocol.js';
import { OrtRunError } from './run-errors.js';

type SessionRun = typeof import('./session-run.js');

export class InlineInstance {
  private stopped = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly ops: SessionRun,
  ) {}

  get alive(): boolean {
    return !this.stopped;
  }

  /** Loads the session on this thread (ONNX Runtime's binding is loaded here only when needed). */
  static async start(
    settings: SessionSettings,
  ): Promise<{ instance: InlineInstance; inputs: TensorSpec[]; outputs: TensorSpec[] }> {
    const ops = await import('./session-run.js');
    const session = await ops.createSession(settings);
    return { instance: new InlineInstance(session, ops), ...ops.specsOf(session) };
  }

  async run(
    inputs: WireTensor[],
    outputNames: string[],
  ): Promise<{ outputs: WireTensor[]; computeNs: number }> {
    if (this.stopped) throw new InferdError('backend_error', 'the model instance has stopped');
    try {
      return await this.ops.runSession(this.session, inputs, outputNames);
    } catch (err) {
      // ORT's words, as the worker passes them on: the backend maps them (run-errors.ts).
      throw new OrtRunError(err instanceof Error ? err.message : String(err));
    }
  }

  calibrate(batches: number[], sample?: WireTensor[]): Promise<ExecPoint[]> {
    return this.ops.calibrateSession(this.session, batches, sample);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.session.release();
  }
}
