import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { checkLimit, MAX_LIMIT } from './event-reads';
import type { Queryable, RawEventRow } from './store-types';
import type { Upcasters } from './upcasting';

// An event's columns as text, as exports write them (RawEventRow; EVENTS_CSV_COLUMNS in that order, under
// those names for COPY's header): one definition for the COPY path and the upcasting path's pages. The
// aliases shadow the columns in ORDER BY: queries order by the qualified column (e.stream_position).
const RAW_COLUMNS: [sql: string, field: keyof RawEventRow, csv: string][] = [
  ['global_position::text', 'globalPosition', 'global_position'],
  ['stream_position::text', 'streamPosition', 'stream_position'],
  ["transaction_id::text || ':' || global_position", 'checkpoint', 'checkpoint'],
  ['type', 'type', 'type'],
  ['schema_version', 'schemaVersion', 'schema_version'],
  ['event_id', 'eventId', 'event_id'],
  [`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, 'createdAt', 'created_at'],
  ['data::text', 'data', 'data'],
  ['metadata::text', 'metadata', 'metadata'],
];
const RAW_EVENT_COLUMNS = RAW_COLUMNS.map(([sql, field]) => `${sql} AS "${field}"`).join(', ');
const RAW_EVENT_COLUMNS_CSV = RAW_COLUMNS.map(([sql, , csv]) => `${sql} AS ${csv}`).join(', ');
/** The header of an events CSV export. */
export const EVENTS_CSV_COLUMNS: readonly string[] = RAW_COLUMNS.map(([, , csv]) => csv);

/**
 * One stream's events as stored, page by page, with every column as text (payloads as jsonb text, not
 * parsed): for exports, which pass current-version payloads through untouched. Callers upcast the rest
 * (`schemaVersion` below `upcasters.currentVersion(type)`): see exportEventsCsv.
 */
export async function* rawStreamPages(pool: Pool, streamId: string, options: { pageSize?: number } = {}): AsyncGenerator<RawEventRow[]> {
  const pageSize = checkLimit(options.pageSize ?? 1000, MAX_LIMIT);
  for (let after = 0; ; ) {
    const { rows } = await pool.query<RawEventRow>(
      `SELECT ${RAW_EVENT_COLUMNS} FROM events e WHERE e.stream_id = $1 AND e.stream_position > $2 ORDER BY e.stream_position LIMIT $3`,
      [streamId, after, pageSize],
    );
    if (rows.length) yield rows;
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1].streamPosition);
  }
}

/**
 * Whether every event of the stream is stored at its type's current schema version (nothing to upcast, no
 * type outside the catalogue): one pass over the stream's rows, an anti-join on the registry's
 * (type, version) pairs, stopping at the first row that needs the upcasting path.
 */
export async function streamIsCurrent(upcasters: Upcasters, streamId: string, db: Queryable): Promise<boolean> {
  const current = Object.entries(upcasters.currentVersions);
  const { rows } = await db.query<{ stale: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM events e LEFT JOIN unnest($2::text[], $3::int[]) AS c(type, version)
              ON c.type = e.type AND c.version = e.schema_version
        WHERE e.stream_id = $1 AND c.type IS NULL) AS stale`,
    [streamId, current.map(([t]) => t), current.map(([, v]) => v)],
  );
  return !rows[0].stale;
}

/**
 * One stream's events as CSV (header first, the columns of RawEventRow as stored), streamed by Postgres
 * (COPY ... TO STDOUT, FORMAT csv) into `out` with back-pressure, when every event is at its current schema
 * version; resolves false, having written nothing, when some event needs upcasting (see exportEventsCsv).
 */
export async function copyCurrentStreamCsv(pool: Pool, upcasters: Upcasters, streamId: string, out: Writable): Promise<boolean> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    if (!(await streamIsCurrent(upcasters, streamId, client))) return false;
    // COPY takes no bind parameters: the one literal (the stream id) is escaped by the driver.
    const sql = `SELECT ${RAW_EVENT_COLUMNS_CSV} FROM events e WHERE e.stream_id = ${client.escapeLiteral(streamId)} ORDER BY e.stream_position`;
    await pipeline(client.query(copyTo(`COPY (${sql}) TO STDOUT WITH (FORMAT csv, HEADER true)`)), out);
    return true;
  } catch (e) {
    failed = e as Error;
    throw e;
  } finally {
    // A COPY cut short (the reader went away) leaves the connection mid-protocol: discard it, never reuse it.
    client.release(failed);
  }
}
