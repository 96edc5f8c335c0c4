import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_EVENTS_LESS_PER_EVENT_WORK } from './1764576000000-append-events-less-per-event-work';
import { APPEND_BATCH_FUNCTION } from './1764662400000-append-batch-fast-path';

/**
 * `events` becomes a partitioned table, so that retention can drop a day of stream events whole (DROP TABLE of a
 * partition: no DELETE, no bloat) and can never reach anything else (docs/events.md, "Partitions and retention"):
 *
 *   events            PARTITION BY RANGE (stream_id), stream_id in the "C" collation (bytewise)
 *   ├─ events_stream  ['stream-', 'stream.'): exactly the ids starting with `stream-`, PARTITION BY RANGE (event_id)
 *   │   ├─ events_stream_pYYYYMMDD   one UTC day of UUIDv7 ids (created ahead by libs/events partitions.ts)
 *   │   └─ events_stream_default     ids no day partition covers (a node's clock off, legacy ids)
 *   └─ events_kept    DEFAULT: every other stream (session-, device-, model-, alert-...): the old table itself
 *
 * Why these keys:
 * - A unique index on a partitioned table must contain its partition key, so no index can make event_id unique
 *   across the whole log any more. Partitioning the stream events by their id (a UUIDv7 starts with its time in
 *   ms, so a range of ids is a range of time) keeps `UNIQUE (event_id)` over all of events_stream, and events_kept
 *   keeps its own: a retried append meets its first attempt's row in the same index, whatever day it is retried.
 *   Across the two, append_batch looks the ids up (below).
 * - Range on stream_id (not an expression, not a column of its own) lets the planner prune: `stream_id = $1` reads
 *   one branch. The bounds are bytewise, hence the "C" collation of the column (pruning needs the query's
 *   collation to be the key's); equality is the same in every deterministic collation.
 * - (stream_id, stream_position) stays the primary key of events_kept; in events_stream it is a plain index (it
 *   cannot be unique without event_id): the stream row's lock numbers positions, and append_batch now checks the
 *   ranks it was given are distinct instead of leaving it to the key.
 *
 * The old table is attached as events_kept with its rows, heap and indexes in place (no copy): its identity moves
 * to the new parent at the same next value, and its indexes on stream_id are rebuilt once for the collation.
 * Rows of `stream-` streams written before (none were, normally) move to events_stream.
 */
export class PartitionedEvents1765100000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    // The rename locks the table (ACCESS EXCLUSIVE) until the migration's transaction ends: appends wait.
    await q.query('ALTER TABLE events RENAME TO events_kept');
    const next = await nextIdentity(q, 'events_kept');
    await q.query('ALTER TABLE events_kept RENAME CONSTRAINT events_pkey TO events_kept_pkey');
    await q.query('ALTER TABLE events_kept RENAME CONSTRAINT events_event_id_key TO events_kept_event_id_key');
    await q.query('ALTER INDEX events_transaction_order_idx RENAME TO events_kept_transaction_order_idx');
    await q.query('ALTER INDEX events_stream_type_idx RENAME TO events_kept_stream_type_idx');
    // A partition cannot have an identity of its own: the parent numbers every row.
    await q.query('ALTER TABLE events_kept ALTER COLUMN global_position DROP IDENTITY');
    await q.query('ALTER TABLE events_kept ALTER COLUMN stream_id TYPE text COLLATE "C"');
    await q.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY (START WITH ${next}),
        stream_id text COLLATE "C" NOT NULL,
        stream_position bigint NOT NULL,
        event_id uuid NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id()
      ) PARTITION BY RANGE (stream_id)`);
    await q.query(`CREATE TABLE events_stream PARTITION OF events FOR VALUES FROM ('stream-') TO ('stream.') PARTITION BY RANGE (event_id)`);
    await q.query('CREATE TABLE events_stream_default PARTITION OF events_stream DEFAULT');
    // readAll order, and the events of one stream by type: on every partition.
    await q.query('CREATE INDEX events_transaction_order_idx ON events (transaction_id, global_position)');
    await q.query('CREATE INDEX events_stream_type_idx ON events (stream_id, type, stream_position)');
    await q.query('ALTER TABLE events_stream ADD CONSTRAINT events_stream_event_id_key UNIQUE (event_id)');
    await q.query('CREATE INDEX events_stream_position_idx ON events_stream (stream_id, stream_position)');
    await q.query(`
      INSERT INTO events (global_position, stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at, transaction_id)
      OVERRIDING SYSTEM VALUE
      SELECT global_position, stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at, transaction_id
        FROM events_kept WHERE stream_id >= 'stream-' AND stream_id < 'stream.'`);
    await q.query(`DELETE FROM events_kept WHERE stream_id >= 'stream-' AND stream_id < 'stream.'`);
    // Its indexes match the parent's and are attached as they are.
    await q.query('ALTER TABLE events ATTACH PARTITION events_kept DEFAULT');
    await q.query(APPEND_EVENTS_PROBING);
    await q.query(APPEND_BATCH_PARTITIONED);
  }

  async down(q: QueryRunner): Promise<void> {
    const next = await nextIdentity(q, 'events');
    await q.query('ALTER TABLE events DETACH PARTITION events_kept');
    await q.query(`
      INSERT INTO events_kept (global_position, stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at, transaction_id)
      SELECT global_position, stream_id, stream_position, event_id, type, schema_version, data, metadata, created_at, transaction_id
        FROM events_stream`);
    await q.query('DROP TABLE events');
    await q.query('ALTER TABLE events_kept RENAME TO events');
    await q.query('ALTER TABLE events ALTER COLUMN stream_id TYPE text COLLATE "default"');
    await q.query(`ALTER TABLE events ALTER COLUMN global_position ADD GENERATED ALWAYS AS IDENTITY (START WITH ${next})`);
    await q.query('ALTER TABLE events RENAME CONSTRAINT events_kept_pkey TO events_pkey');
    await q.query('ALTER TABLE events RENAME CONSTRAINT events_kept_event_id_key TO events_event_id_key');
    await q.query('ALTER INDEX events_kept_transaction_order_idx RENAME TO events_transaction_order_idx');
    await q.query('ALTER INDEX events_kept_stream_type_idx RENAME TO events_stream_type_idx');
    await q.query(APPEND_EVENTS_LESS_PER_EVENT_WORK);
    await q.query(APPEND_BATCH_FUNCTION);
  }
}

/** The next global position: the identity's next value, and never one already stored. */
async function nextIdentity(q: QueryRunner, table: string): Promise<string> {
  const [{ seq }] = (await q.query(`SELECT pg_get_serial_sequence('${table}', 'global_position') AS seq`)) as { seq: string }[];
  const [{ next }] = (await q.query(
    `SELECT greatest((SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM ${seq}),
                     (SELECT coalesce(max(global_position), 0) + 1 FROM ${table}))::text AS next`,
  )) as { next: string }[];
  return next;
}

export function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`migration source: expected exactly one '${from}'`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/*
 * append_events (the slow path: expectations, or a batch the fast path refused) as before, except that it looks the
 * ids up before inserting instead of after a unique violation: an id stored in the other branch (events_kept vs
 * events_stream) raises no violation, only the lookup (over every partition) finds it.
 */
export const APPEND_EVENTS_PROBING = replaceOnce(APPEND_EVENTS_LESS_PER_EVENT_WORK, 'probed boolean := false;', 'probed boolean := true;');

/*
 * append_batch as in AppendBatchFastPath1764662400000 (see the contract there), with two checks in the fast path
 * that the partitioning takes away from the indexes; either sends the batch to append_events, as a stored id did:
 * - an id already stored in the other branch: a stream- event's id in events_kept, any other's in events_stream
 *   (one index probe per event; the probe into events_stream is pruned to the partition of the id). Concurrent
 *   transactions writing one id into both branches at once are not caught (no index spans both).
 * - two events of one stream with the same rank (events_stream has no unique key on positions): only for batches
 *   holding stream- events.
 */
export const APPEND_BATCH_PARTITIONED = replaceOnce(
  APPEND_BATCH_FUNCTION,
  `  IF array_remove(p_expected, NULL) = '{}' THEN
    BEGIN
`,
  `  IF array_remove(p_expected, NULL) = '{}' THEN
    BEGIN
      IF EXISTS (SELECT 1 FROM unnest(p_ids, p_req) AS x(id, r)
                  WHERE CASE WHEN starts_with(p_streams[p_req_stream[x.r]], 'stream-')
                             THEN EXISTS (SELECT 1 FROM events_kept k WHERE k.event_id = x.id)
                             ELSE EXISTS (SELECT 1 FROM events_stream s WHERE s.event_id = x.id) END) THEN
        RAISE unique_violation USING MESSAGE = 'append_batch: an event id is stored in the other partition branch';
      END IF;
      IF EXISTS (SELECT 1 FROM unnest(p_streams) AS x(id) WHERE starts_with(x.id, 'stream-'))
         AND (SELECT count(DISTINCT p_req_stream[x.r]::bigint * 2147483648 + x.o) FROM unnest(p_req, p_ranks) AS x(r, o)) <> n_ev THEN
        RAISE unique_violation USING MESSAGE = 'append_batch: two events of one stream have the same rank';
      END IF;
`,
);
