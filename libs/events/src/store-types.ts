import type { EventType, NewEvent, StoredEvent } from '@ddnn/contracts';
import type { Pool, PoolClient } from 'pg';

/** Something to run a query on: the pool or a checked-out client (inside a transaction). */
export type Queryable = Pick<Pool, 'query'> | PoolClient;

/** Optimistic concurrency: a stream position (0 = empty), or a looser expectation. */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';

export interface AppendOptions {
  /** Default 'any' (no check). */
  expectedVersion?: ExpectedVersion;
  /**
   * The writer's fencing token for this stream (EventStore.takeFence): the append is refused with a
   * FencedAppendError, writing nothing, once another writer has taken a newer one. Default: no fence.
   */
  fence?: number;
}

export interface AppendRequest extends AppendOptions {
  streamId: string;
  events: NewEvent[];
}

export interface AppendResult {
  streamId: string;
  /** The stream position after this append: pass it as expectedVersion to append next. */
  nextExpectedVersion: number;
  events: StoredEvent[];
  /** True when every event id was already stored (an idempotent retry): nothing new was written. */
  duplicate: boolean;
}

/**
 * Per request of a batch: its result, or the error that refused it (the other requests are unaffected): a
 * ConcurrencyError, an EventIdReuseError, a FencedAppendError, or an Error naming what the store cannot write
 * (nothing of it was sent).
 */
export type AppendOutcome = { ok: true; result: AppendResult } | { ok: false; error: Error };

export interface ReadAllOptions {
  /** Exclusive: events after this checkpoint (default: from the start). */
  after?: string;
  limit?: number;
}

/** A stream page bounded by database time (created_at): from inclusive, to exclusive. */
export interface StreamReadOptions extends ReadAllOptions {
  from?: Date;
  to?: Date;
}

export interface ReadAllPage {
  events: StoredEvent[];
  /** Checkpoint of the last event returned, or `after` when none: pass it to the next call. */
  checkpoint: string;
}

/** One event's payload and stream position (payloadsByType). */
export type StreamPayload<K extends EventType = EventType> = { type: K; streamPosition: number; data: StoredEvent<K>['data'] };

/** An event row with its columns as text (rawStreamPages); data and metadata are JSON text as stored. */
export interface RawEventRow {
  globalPosition: string;
  streamPosition: string;
  checkpoint: string;
  type: string;
  schemaVersion: number;
  eventId: string;
  createdAt: string;
  data: string;
  metadata: string;
}

export interface ReadStreamOptions {
  /** Inclusive first stream position (positions start at 1). */
  from?: number;
  limit?: number;
}
