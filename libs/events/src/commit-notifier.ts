import type { Pool } from 'pg';

/** The channel subscribers LISTEN on; the event store notifies it after every commit that wrote events. */
export const EVENTS_CHANNEL = 'ddnn_events';

// Its own tiny transaction, committed asynchronously: a notifying transaction holds a cluster-wide lock until its
// commit record is flushed, and a lost wake-up costs nothing (the events are already durable; subscribers poll).
const NOTIFY_AFTER_COMMIT = `BEGIN; SET LOCAL synchronous_commit = off; SELECT pg_notify('${EVENTS_CHANNEL}', ''); COMMIT`;

/** SQL that notifies from inside a caller's transaction (delivered when that transaction commits). */
export const NOTIFY_IN_TRANSACTION = `SELECT pg_notify('${EVENTS_CHANNEL}', '')`;

/**
 * Wakes subscribers after appends committed on the pool, off the append's critical path: at most one
 * notification in flight and at most one per minIntervalMs; wake-ups requested meanwhile collapse into one more.
 * A notification is a round trip and a transaction (~0.2 ms of client and ~0.1 ms of server CPU): sent after every
 * batch, they were ~70 per 10,000 events at batches of 100, for wake-ups that subscribers coalesce anyway.
 */
export class CommitNotifier {
  private inFlight = false;
  private again = false;
  private lastSent = -Infinity;

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly minIntervalMs = 20,
  ) {}

  /** Requests a notification; never throws (polling is the subscribers' fallback). */
  notify(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    const wait = this.lastSent + this.minIntervalMs - performance.now();
    // unref: a wake-up still waiting must not keep the process alive (subscribers poll anyway).
    if (wait > 0) setTimeout(() => this.send(), wait).unref();
    else this.send();
  }

  private send(): void {
    this.lastSent = performance.now();
    this.pool
      .query(NOTIFY_AFTER_COMMIT)
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = false;
        if (this.again) {
          this.again = false;
          this.notify();
        }
      });
  }
}
