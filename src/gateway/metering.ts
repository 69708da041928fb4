/**
 * meterUsage(store): records every metered /v1 call (key, model, version, status, units, latency).
 * The contract: a response is sent only after its record is durable. Records arriving in the same
 * turn of the event loop are written in one transaction (group commit), so concurrent requests
 * share one disk sync instead of paying one each.
 */
import { GroupCommit } from './store/group-commit.js';
import type { Store, UsageRecord } from './store/types.js';

export class UsageMeter {
  private readonly commits: GroupCommit<UsageRecord>;

  constructor(store: Store) {
    this.commits = new GroupCommit((batch) => store.recordUsage(batch));
  }

  /** Resolves once the record is committed; rejects if the store write failed. */
  record(rec: UsageRecord): Promise<void> {
    return this.commits.add(rec);
  }

  /** Waits for every write accepted so far (used at shutdown). */
  drain(): Promise<void> {
    return this.commits.drain();
  }
}

export function meterUsage(store: Store): UsageMeter {
  return new UsageMeter(store);
}
