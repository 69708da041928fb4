/**
 * meterUsage(store): records every metered /v1 call (key, model, version, status, units, latency).
 * The contract: a response is sent only after its record is durable. Records arriving in the same
 * turn of the event loop are written in one transaction (group commit), so concurrent requests
 * share one disk sync instead of paying one each.
 */
import type { Store, UsageRecord } from './store/types.js';

export class UsageMeter {
  private pending: UsageRecord[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly store: Store) {}

  /** Resolves once the record is committed; rejects if the store write failed. */
  record(rec: UsageRecord): Promise<void> {
    this.pending.push(rec);
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return p;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    // Writes stay in order: a batch starts after the previous one committed.
    this.writing = this.writing.then(() =>
      this.store.recordUsage(batch).then(
        () => waiters.forEach((w) => w.resolve()),
        (err: unknown) => waiters.forEach((w) => w.reject(err)),
      ),
    );
  }

  /** Waits for every write accepted so far (used at shutdown). */
  async drain(): Promise<void> {
    if (this.scheduled) this.flush();
    await this.writing;
  }
}

export function meterUsage(store: Store): UsageMeter {
  return new UsageMeter(store);
}
