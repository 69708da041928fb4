/**
 * The last failed /v1 calls of each key, with their request ids, so a customer can quote one to
 * support (the portal's usage page). In memory, per replica, bounded both ways: at most
 * `perKey` errors per key and `maxKeys` keys (the key that failed longest ago is forgotten first).
 * Usage records keep the durable counts; this is a convenience that a restart clears.
 */
export interface RecentError {
  /** ISO 8601. */
  time: string;
  request_id: string;
  method: string;
  /** The path only (a query string might carry something the client should not have sent). */
  path: string;
  status: number;
  code: string;
}

export class RecentErrors {
  private readonly byKey = new Map<string, RecentError[]>();

  constructor(
    readonly perKey = 20,
    readonly maxKeys = 10_000,
  ) {}

  add(keyId: string, e: RecentError): void {
    const list = this.byKey.get(keyId) ?? [];
    // Re-inserted, so Map order is the order of each key's latest error.
    this.byKey.delete(keyId);
    list.push({ ...e, path: e.path.slice(0, 256) });
    if (list.length > this.perKey) list.splice(0, list.length - this.perKey);
    this.byKey.set(keyId, list);
    while (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value as string);
  }

  /** Newest first. */
  of(keyId: string): RecentError[] {
    return [...(this.byKey.get(keyId) ?? [])].reverse();
  }
}
