import type { EventMetadata, EventType, StoredEvent } from '@ddnn/contracts';
import { streamIds } from '@ddnn/contracts';
import type { Pool, QueryResult } from 'pg';
import { formatCheckpoint, parseCheckpoint, START_CHECKPOINT } from './checkpoint';
import { LogTail } from './log-tail';
import { expiresByAge } from './partitions';
import type { Queryable, ReadAllOptions, ReadAllPage, ReadStreamOptions, StreamPayload, StreamReadOptions } from './store-types';
import { Upcasters } from './upcasting';

interface EventRow {
  global_position: string;
  stream_id: string;
  stream_position: string;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: EventMetadata;
  created_at: Date;
  txid: string;
}

const EVENT_COLUMNS =
  'global_position, stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at, transaction_id::text AS txid';
// Only rows of transactions older than every transaction still running: a row that commits later can then
// never sort before what a reader has already seen (the xid8 snapshot rule).
const SAFE = 'transaction_id < pg_snapshot_xmin(pg_current_snapshot())';
export const MAX_LIMIT = 10_000;
/*
 * Statements with a `name` are prepared once per connection and, after a few executions, keep one generic plan:
 * planning readAll over the partitions cost the server twice its execution (pg_stat_statements, bench:session: 268
 * calls, 414 ms planning, 210 ms executing). Named are only statements whose plan cannot depend on the values: one
 * index serves every value. Left unnamed (planned for their values each time): samplePayloads (only a plan made for
 * a literal type can use the partial sample index), readStreamAfter of a session's or device's stream (one
 * stream's share of the log decides between its index and the log order; a production stream's pages are
 * read_stream_page, named, written so that only its log-order index can serve them) and countAfter (a checkpoint
 * near the head counts a few rows, an old one most).
 */
/**
 * A page of one session's or device's stream in log order: $1 stream, ($2 xid8, $3 global position) the checkpoint,
 * $4 rows, [$5, $6) an optional time window. Production streams use read_stream_page, the same query on their
 * partitions along their log-order index.
 */
const STREAM_PAGE_SQL = `SELECT ${EVENT_COLUMNS} FROM events
  WHERE stream_id = $1 AND (transaction_id, global_position) > ($2::xid8, $3::bigint) AND ${SAFE}
    AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)
  ORDER BY transaction_id, global_position LIMIT $4`;
/**
 * How long before a window's start the sample its first page starts after was logged: longer than any sample's
 * transaction lasts (a second at most), so the transactions of the window's events all took their ids after it.
 */
const WINDOW_START_SLACK_MS = 60_000;
/** How many events a read that extends the shared tail asks for (at least the caller's limit). */
const TAIL_READ = 1000;

/**
 * Reads of the event log: streams, the whole log in the xid8 order (through the tail shared by this process's
 * readers), payloads by type or sample, counts and checkpoints.
 */
export class EventReads {
  readonly upcasters: Upcasters;
  /** The newest events this process read, shared by its readers (see LogTail). */
  protected readonly tail = new LogTail();

  constructor(
    readonly pool: Pool,
    options: { upcasters?: Upcasters } = {},
  ) {
    this.upcasters = options.upcasters ?? new Upcasters();
  }

  /** Events of one stream in stream order, upcast to current schema versions. */
  async readStream(streamId: string, options: ReadStreamOptions = {}, db: Queryable = this.pool): Promise<StoredEvent[]> {
    const from = options.from ?? 1;
    if (!Number.isInteger(from) || from < 1) throw new Error(`readStream: from must be an integer >= 1, got ${from}`);
    const { rows } = await this.prepared<EventRow>(
      db,
      'ddnn_read_stream',
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_position >= $2 ORDER BY stream_position LIMIT $3`,
      [streamId, from, checkLimit(options.limit, MAX_LIMIT)],
    );
    return rows.map((r) => this.toStored(r));
  }

  /**
   * Every committed event after a checkpoint, in (transaction id, global position) order, never skipping an
   * event whose transaction commits late: events of still-running transactions' successors wait until it ends.
   */
  async readAll(options: ReadAllOptions = {}, db: Queryable = this.pool): Promise<ReadAllPage> {
    const after = options.after ?? START_CHECKPOINT;
    parseCheckpoint(after);
    const limit = checkLimit(options.limit, MAX_LIMIT);
    let events = this.tail.slice(after, limit);
    if (events !== null && events.length === 0) {
      // At the tail's end: read on for every reader of this process at once.
      await this.tail.extend((from) => this.readAllRows(from, Math.max(limit, TAIL_READ), db));
      events = this.tail.slice(after, limit);
    }
    if (events === null) {
      const page = await this.readAllRows(after, limit, db);
      this.tail.offer(after, page.events, page.head);
      events = page.events;
    }
    return { events, checkpoint: events.length ? events[events.length - 1].checkpoint : after };
  }

  /**
   * readAll's query: `head` when it returned fewer than `limit` (it reached what is readable now). Rows of events
   * this process committed and staged in the tail come back as their positions only and are taken from the
   * stage: the server skips writing out their payloads and this process parsing them, most of the log's reads
   * when one node writes it (a staged event is what the read would give, built from what was sent).
   */
  private async readAllRows(after: string, limit: number, db: Queryable): Promise<{ events: StoredEvent[]; head: boolean }> {
    const cp = parseCheckpoint(after);
    const txid = cp.transactionId.toString();
    const gp = cp.globalPosition.toString();
    for (let known = this.tail.knownPositions(); ; known = null) {
      // read_log_page (migration 1765700000000): the query below, planned once per connection.
      const { rows } = await this.prepared<EventRow & { known: boolean }>(db, 'ddnn_read_log_page', 'SELECT * FROM read_log_page($1::xid8, $2::bigint, $3, $4::int8multirange)', [
        txid,
        gp,
        limit,
        known,
      ]);
      const events = new Array<StoredEvent>(rows.length);
      let i = 0;
      for (; i < rows.length; i++) {
        const r = rows[i];
        if (!r.known) {
          events[i] = this.toStored(r);
          continue;
        }
        const e = this.tail.stagedAt(String(r.global_position));
        // Dropped from the stage since the query went out, or not what the row is: read the page whole.
        if (e === undefined || e.checkpoint !== formatCheckpoint(r.txid, r.global_position)) break;
        events[i] = e;
      }
      if (i === rows.length) return { events, head: rows.length < limit };
    }
  }

  /** Events of one session (stream session-<id>) of one type, in stream order. */
  async readSessionEventsByType<K extends EventType>(
    sessionId: string,
    type: K,
    options: ReadStreamOptions = {},
    db: Queryable = this.pool,
  ): Promise<StoredEvent<K>[]> {
    this.upcasters.currentVersion(type);
    const { rows } = await this.prepared<EventRow>(
      db,
      'ddnn_read_by_type',
      `SELECT ${EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND type = $2 AND stream_position >= $3
        ORDER BY stream_position LIMIT $4`,
      [streamIds.session(sessionId), type, options.from ?? 1, checkLimit(options.limit, MAX_LIMIT)],
    );
    return rows.map((r) => this.toStored(r) as StoredEvent<K>);
  }

  /**
   * One page of a session's events after a checkpoint, in readAll order (for REST catch-up: a client resumes
   * from the checkpoint of the last event it has, e.g. one carried by a live notification).
   */
  readSessionEvents(sessionId: string, options: ReadAllOptions = {}, db: Queryable = this.pool): Promise<ReadAllPage & { hasMore: boolean }> {
    return this.readStreamAfter(streamIds.session(sessionId), options, db);
  }

  /** One page of one stream's events after a checkpoint, in readAll order (sessions' and production streams' alike). */
  async readStreamAfter(streamId: string, options: StreamReadOptions = {}, db: Queryable = this.pool): Promise<ReadAllPage & { hasMore: boolean }> {
    const after = options.after ?? START_CHECKPOINT;
    const cp = parseCheckpoint(after);
    const limit = checkLimit(options.limit, 1000);
    // A time window is read from the table: the shared tail knows checkpoints, not instants.
    const windowed = options.from !== undefined || options.to !== undefined;
    if (!windowed && this.tail.slice(after, 0) !== null) {
      // In the shared tail: bring it to the head (a read the subscriptions would do anyway) and pick this stream's.
      await this.tail.extend((from) => this.readAllRows(from, TAIL_READ, db), true);
      const mine = this.tail.covers(after) ? this.tail.streamAfter(after, streamId, limit + 1) : null;
      if (mine !== null) {
        const events = mine.slice(0, limit);
        return { events, hasMore: mine.length > limit, checkpoint: events.length ? events[events.length - 1].checkpoint : after };
      }
    }
    // A production stream's window read from its start begins near the window instead (see windowStart).
    const start = options.from !== undefined && after === START_CHECKPOINT && expiresByAge(streamId) ? await this.windowStart(streamId, options.from, db) : null;
    const from = start ? parseCheckpoint(start) : cp;
    const params = [streamId, from.transactionId.toString(), from.globalPosition.toString(), limit + 1, options.from ?? null, options.to ?? null];
    // A production stream has no end: its pages go along its log-order index, never through a sort (read_stream_page,
    // migration 1765900000000). Sessions' and devices' streams are finite: planned for their values each time.
    const { rows } = expiresByAge(streamId)
      ? await this.prepared<EventRow>(db, 'ddnn_read_stream_page', 'SELECT * FROM read_stream_page($1, $2::xid8, $3::bigint, $4, $5::timestamptz, $6::timestamptz)', params)
      : await db.query<EventRow>(STREAM_PAGE_SQL, params);
    const hasMore = rows.length > limit;
    const events = rows.slice(0, limit).map((r) => this.toStored(r));
    return { events, hasMore, checkpoint: events.length ? events[events.length - 1].checkpoint : after };
  }

  /**
   * A checkpoint before every event a production stream logged at or after `from` (null: read from its start): the
   * newest SampleStarted logged WINDOW_START_SLACK_MS before it, found by a binary search over its sample indices
   * (stream_window_start, migration 1765900000000), so that the first page of a late window does not walk the
   * stream's earlier events.
   */
  private async windowStart(streamId: string, from: Date, db: Queryable): Promise<string | null> {
    const { rows } = await this.prepared<{ transaction_id: string | null; global_position: string | null }>(
      db,
      'ddnn_stream_window_start',
      'SELECT * FROM stream_window_start($1, $2::timestamptz)',
      [streamId, new Date(from.getTime() - WINDOW_START_SLACK_MS)],
    );
    const r = rows[0];
    return r?.transaction_id && r.global_position ? formatCheckpoint(r.transaction_id, r.global_position) : null;
  }

  /**
   * The payloads of one stream's events of one type that belong to the given samples (`data.sampleIndex`), in
   * stream order: a run's decisions or labels of a few samples, e.g. the ones a label request names.
   */
  async samplePayloads<K extends EventType>(streamId: string, type: K, sampleIndices: readonly number[]): Promise<StreamPayload<K>[]> {
    if (!sampleIndices.length) return [];
    this.upcasters.currentVersion(type);
    const { rows } = await this.pool.query<{ p: string; v: number; data: unknown }>(
      `SELECT stream_position AS p, schema_version AS v, data FROM events
        WHERE stream_id = $1 AND type = $2 AND (data->>'sampleIndex')::int = ANY ($3::int[]) ORDER BY stream_position`,
      [streamId, type, sampleIndices],
    );
    return rows.map((r) => ({ type, streamPosition: Number(r.p), data: this.upcasters.upcast(type, r.v, r.data) }) as StreamPayload<K>);
  }

  /**
   * The highest sampleIndex among one stream's events of one type, null when it has none. Not the newest event's:
   * a stream's samples in flight commit in any order. The type is written literally so that a stream's events are
   * found along events_stream_sample_idx (a partial index on the per-sample types).
   */
  async highestSampleIndex(streamId: string, type: 'SampleStarted' | 'ExitDecided'): Promise<number | null> {
    if (type !== 'SampleStarted' && type !== 'ExitDecided') throw new Error(`highestSampleIndex: no sample index on ${String(type)}`);
    const { rows } = await this.pool.query<{ i: number | null }>(
      `SELECT max((data->>'sampleIndex')::int) AS i FROM events WHERE stream_id = $1 AND type = '${type}'`,
      [streamId],
    );
    return rows[0]?.i ?? null;
  }

  /** The payload of the newest event of one type in one stream (backwards along its index), or null. */
  async lastPayload<K extends EventType>(streamId: string, type: K): Promise<StreamPayload<K> | null> {
    this.upcasters.currentVersion(type);
    const { rows } = await this.prepared<{ p: string; v: number; data: unknown }>(
      this.pool,
      'ddnn_last_payload',
      `SELECT stream_position AS p, schema_version AS v, data FROM events WHERE stream_id = $1 AND type = $2 ORDER BY stream_position DESC LIMIT 1`,
      [streamId, type],
    );
    return rows.length ? ({ type, streamPosition: Number(rows[0].p), data: this.upcasters.upcast(type, rows[0].v, rows[0].data) } as StreamPayload<K>) : null;
  }

  /**
   * The payloads of one stream's events of one type, upcast, in stream order, page by page along the index
   * (stream_id, type, stream_position). Only the payload and position are read: half the time of full
   * StoredEvents on a 2.3 M-event session.
   */
  async *payloadsByType<K extends EventType>(
    streamId: string,
    type: K,
    options: { pageSize?: number } = {},
  ): AsyncGenerator<StreamPayload<K>[]> {
    this.upcasters.currentVersion(type);
    const pageSize = checkLimit(options.pageSize ?? 50_000, 100_000);
    for (let after = 0; ; ) {
      const { rows } = await this.prepared<{ p: string; v: number; data: unknown }>(
        this.pool,
        'ddnn_payloads_by_type',
        `SELECT stream_position AS p, schema_version AS v, data FROM events
          WHERE stream_id = $1 AND type = $2 AND stream_position > $3 ORDER BY stream_position LIMIT $4`,
        [streamId, type, after, pageSize],
      );
      if (rows.length) {
        yield rows.map((r) => ({ type, streamPosition: Number(r.p), data: this.upcasters.upcast(type, r.v, r.data) }) as StreamPayload<K>);
      }
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1].p);
    }
  }

  /** Every event of one stream in stream order, upcast, page by page (for exports: memory stays one page). */
  async *streamPages(streamId: string, options: { pageSize?: number } = {}): AsyncGenerator<StoredEvent[]> {
    const pageSize = checkLimit(options.pageSize ?? 2000, MAX_LIMIT);
    for (let from = 1; ; ) {
      const page = await this.readStream(streamId, { from, limit: pageSize });
      if (page.length) yield page;
      if (page.length < pageSize) return;
      from = page[page.length - 1].streamPosition + 1;
    }
  }

  /** Events of one type in one stream (index-only count on (stream_id, type, stream_position)). */
  async countByType(streamId: string, type: EventType, db: Queryable = this.pool): Promise<number> {
    const { rows } = await this.prepared<{ n: string }>(
      db,
      'ddnn_count_by_type',
      'SELECT count(*) AS n FROM events WHERE stream_id = $1 AND type = $2',
      [streamId, type],
    );
    return Number(rows[0].n);
  }

  /** Whether an event is in the log (by its stream, which prunes the search to one branch, and its unique id). */
  async containsEvent(streamId: string, eventId: string, db: Queryable = this.pool): Promise<boolean> {
    const { rows } = await db.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND event_id = $2) AS found', [streamId, eventId]);
    return rows[0].found;
  }

  /** Checkpoint of the newest event readAll can return now (START_CHECKPOINT for an empty log). */
  async headCheckpoint(db: Queryable = this.pool): Promise<string> {
    const { rows } = await this.prepared<{ txid: string; global_position: string }>(
      db,
      'ddnn_head_checkpoint',
      `SELECT transaction_id::text AS txid, global_position FROM events WHERE ${SAFE}
        ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    return rows.length ? formatCheckpoint(rows[0].txid, rows[0].global_position) : START_CHECKPOINT;
  }

  /**
   * Checkpoint of the newest committed event, readable or not yet (held back by an older running transaction):
   * a consumer that reaches it has seen everything committed before this call.
   */
  async lastCommittedCheckpoint(db: Queryable = this.pool): Promise<string> {
    const { rows } = await this.prepared<{ txid: string; global_position: string }>(
      db,
      'ddnn_last_committed_checkpoint',
      `SELECT transaction_id::text AS txid, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1`,
    );
    return rows.length ? formatCheckpoint(rows[0].txid, rows[0].global_position) : START_CHECKPOINT;
  }

  /** Committed events after a checkpoint (a consumer's lag: how many events it is behind the head). */
  async countAfter(checkpoint: string, db: Queryable = this.pool): Promise<number> {
    const cp = parseCheckpoint(checkpoint);
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)`,
      [cp.transactionId.toString(), cp.globalPosition.toString()],
    );
    return Number(rows[0].n);
  }

  /** Current position of a stream (0 when it has no events). */
  async streamVersion(streamId: string, db: Queryable = this.pool): Promise<number> {
    const { rows } = await this.prepared<{ p: string }>(
      db,
      'ddnn_stream_version',
      'SELECT stream_position AS p FROM streams WHERE stream_id = $1',
      [streamId],
    );
    return rows.length ? Number(rows[0].p) : 0;
  }


  /**
   * A named statement (see the note at the top). When a migration has changed a column it returns, its prepared
   * form on a connection fails ('cached plan must not change result type'): on the pool, pg-pool has discarded that
   * connection (it releases a client with its query's error) and the read is made again unprepared; inside a
   * caller's transaction the error is the caller's, as any database error (its transaction is aborted).
   */
  protected async prepared<R extends object>(db: Queryable, name: string, text: string, values?: unknown[]): Promise<QueryResult<R>> {
    try {
      return await db.query<R>({ name, text, values });
    } catch (e) {
      if (db === this.pool && isStalePreparedPlan(e)) return db.query<R>(text, values);
      throw e;
    }
  }

  private toStored(r: EventRow): StoredEvent {
    return {
      type: r.type as EventType,
      data: this.upcasters.upcast(r.type, r.schema_version, r.data),
      eventId: r.event_id,
      streamId: r.stream_id,
      streamPosition: Number(r.stream_position),
      globalPosition: String(r.global_position),
      checkpoint: formatCheckpoint(r.txid, r.global_position),
      schemaVersion: this.upcasters.currentVersion(r.type),
      metadata: r.metadata ?? {},
      createdAt: r.created_at.toISOString(),
    } as StoredEvent;
  }
}

function isStalePreparedPlan(e: unknown): boolean {
  return e instanceof Error && (e as { code?: unknown }).code === '0A000' && e.message.includes('cached plan must not change result type');
}

export function checkLimit(limit: number | undefined, max: number): number {
  const l = limit ?? max;
  if (!Number.isInteger(l) || l < 1 || l > max) throw new Error(`limit must be an integer in [1, ${max}], got ${limit}`);
  return l;
}
