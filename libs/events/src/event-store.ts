import type { NewEvent, StoredEvent } from '@ddnn/contracts';
import type { Writable } from 'node:stream';
import type { Pool } from 'pg';
import { appendBatch } from './append';
import { CommitNotifier, NOTIFY_IN_TRANSACTION } from './commit-notifier';
import { EventReads } from './event-reads';
import { copyCurrentStreamCsv, rawStreamPages, streamIsCurrent } from './event-export';
import type { AppendOptions, AppendOutcome, AppendRequest, AppendResult, Queryable, RawEventRow } from './store-types';
import type { Upcasters } from './upcasting';

export { EVENTS_CSV_COLUMNS } from './event-export';
export * from './store-types';

/**
 * Append-only event store on Postgres (raw SQL over a pg Pool): appends (./append), the reads it inherits
 * (./event-reads) and the exports' raw pages (./event-export).
 */
export class EventStore extends EventReads {
  private readonly notifier: CommitNotifier;
  private readonly schemaVersion = (type: string): number => this.upcasters.currentVersion(type);

  constructor(pool: Pool, options: { upcasters?: Upcasters } = {}) {
    super(pool, options);
    this.notifier = new CommitNotifier(pool);
  }

  /** Appends events to one stream in one round trip; throws ConcurrencyError when expectedVersion is not met, FencedAppendError when the fence is stale. */
  async appendToStream(streamId: string, events: NewEvent[], options: AppendOptions = {}): Promise<AppendResult> {
    const [outcome] = await this.appendBatch([{ streamId, events, expectedVersion: options.expectedVersion, fence: options.fence }]);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  /**
   * Appends several requests (any streams) in one statement, hence one transaction: all are written or,
   * on a database error, none. A request refused by its expectation, or refused before sending because the
   * store cannot write it (see encodeBatch), is reported in its outcome only.
   * Subscribers are notified after the commit (on the pool) or within the caller's transaction (on `db`).
   */
  appendBatch(requests: AppendRequest[], db: Queryable = this.pool): Promise<AppendOutcome[]> {
    // On the pool the statement has committed: wake subscribers without waiting. Inside a caller's transaction
    // the notification must commit with it.
    const notify = db === this.pool ? () => this.notifier.notify() : () => db.query(NOTIFY_IN_TRANSACTION);
    // Committed on the pool: staged for this process's readers, who then read where they are, not what they are.
    const committed = db === this.pool && this.tail.live ? (events: StoredEvent[]) => this.tail.stage(events) : undefined;
    return appendBatch(requests, this.schemaVersion, db, notify, committed);
  }

  /**
   * Makes the caller the stream's writer: takes the stream's next fencing token, which its appends then carry
   * (AppendOptions.fence). It waits for appends in progress under the previous token to commit, and appends under
   * any older token fail with a FencedAppendError from then on: take it before reading what the stream holds.
   */
  async takeFence(streamId: string): Promise<number> {
    const { rows } = await this.pool.query<{ fence: string }>(
      `INSERT INTO stream_fences AS f (stream_id, fence) VALUES ($1, 1)
       ON CONFLICT (stream_id) DO UPDATE SET fence = f.fence + 1 RETURNING f.fence`,
      [streamId],
    );
    return Number(rows[0].fence);
  }

  /** One stream's events as stored, page by page, every column as text (see ./event-export). */
  rawStreamPages(streamId: string, options: { pageSize?: number } = {}): AsyncGenerator<RawEventRow[]> {
    return rawStreamPages(this.pool, streamId, options);
  }

  /** Whether every event of the stream is stored at its type's current schema version (see ./event-export). */
  streamIsCurrent(streamId: string, db: Queryable = this.pool): Promise<boolean> {
    return streamIsCurrent(this.upcasters, streamId, db);
  }

  /** One stream's events as CSV written by Postgres, when none needs upcasting; else false (see ./event-export). */
  copyCurrentStreamCsv(streamId: string, out: Writable): Promise<boolean> {
    return copyCurrentStreamCsv(this.pool, this.upcasters, streamId, out);
  }

  /** Empties the log (events, streams and stored checkpoints): for benchmarks on a database of their own. */
  async truncateAll(): Promise<void> {
    await this.pool.query('TRUNCATE events, streams, stream_fences, subscription_checkpoints');
    this.tail.clear();
  }
}
