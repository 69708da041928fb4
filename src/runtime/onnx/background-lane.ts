/**
 * The background lane: one more session of the model, on its own worker thread at SCHED_IDLE with
 * one intra-op thread, for executions nobody waits for (shadow mirrors). Linux runs an idle-policy
 * thread only on cycles no normal thread wants and preempts it the moment one wakes, so a mirror
 * computing here cannot take a core from a real request; on a 2-core host a mirror on the model's
 * own (normal-priority, two-thread) instances added 5.5% to the primary p50
 * (bench/results/rollout-shadow.md).
 *
 * Started on first use, not at load: most versions are never shadowed, and a session costs the
 * model's memory again. Until it is ready, and while it computes, `run` declines (the caller sheds).
 */
import type { Tensor } from '../../core/tensor.js';
import { fromWire, toWire } from './convert.js';
import { OnnxInstance } from './instance.js';
import type { SessionSettings } from './protocol.js';

type State = 'cold' | 'starting' | 'ready' | 'failed' | 'stopped';

export class BackgroundLane {
  private state: State = 'cold';
  private instance: OnnxInstance | undefined;
  private busy = false;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly settings: Omit<SessionSettings, 'intraOpNumThreads' | 'threadPriority'>,
    private readonly onFailure: (reason: string) => void,
  ) {}

  /**
   * Runs the execution when the lane is ready and idle; otherwise undefined (and a cold lane
   * starts). One execution at a time: a mirror that would queue is worth less than a fresh one.
   */
  run(inputs: Tensor[], outputNames: string[]): Promise<Tensor[]> | undefined {
    if (this.state === 'cold') this.start();
    const instance = this.instance;
    if (this.state !== 'ready' || this.busy || !instance?.alive) {
      return undefined;
    }
    this.busy = true;
    return instance.run(inputs.map(toWire), outputNames).then(
      ({ outputs }) => {
        this.busy = false;
        return outputs.map(fromWire);
      },
      (err: unknown) => {
        this.busy = false;
        throw err;
      },
    );
  }

  async stop(): Promise<void> {
    const before = this.state;
    this.state = 'stopped';
    if (before === 'starting') await this.starting;
    await this.instance?.stop();
    this.instance = undefined;
  }

  private start(): void {
    this.state = 'starting';
    this.starting = OnnxInstance.start({
      ...this.settings,
      intraOpNumThreads: 1,
      threadPriority: 'idle',
    }).then(
      async ({ instance }) => {
        if (this.state === 'stopped') {
          await instance.stop();
          return;
        }
        this.instance = instance;
        this.state = 'ready';
      },
      (err: unknown) => {
        if (this.state === 'stopped') return;
        this.state = 'failed';
        this.onFailure(err instanceof Error ? err.message : String(err));
      },
    );
  }
}
