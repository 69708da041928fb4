/**
 * Group commit: records added in the same turn of the event loop are written in one call (one
 * transaction, one disk sync), batches in the order they formed, and each add() resolves once its
 * batch is committed (or rejects with the write's error). Shared by the usage meter and the
 * prediction log.
 */
export class GroupCommit<T> {
  private pending: T[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly write: (batch: T[]) => Promise<unknown>) {}

  add(item: T): Promise<void> {
    this.pending.push(item);
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
    // A batch starts after the previous one committed: later records never overtake earlier ones.
    this.writing = this.writing.then(() =>
      this.write(batch).then(
        () => waiters.forEach((w) => w.resolve()),
        (err: unknown) => waiters.forEach((w) => w.reject(err)),
      ),
    );
  }

  /** Waits for every record added so far (at shutdown, before the store closes). */
  async drain(): Promise<void> {
    if (this.scheduled) this.flush();
    await this.writing;
  }
}
