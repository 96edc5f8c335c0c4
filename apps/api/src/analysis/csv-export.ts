import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { streamIds, type ExportWhat } from '@ddnn/contracts';
import { AnalysisDatabase } from './analysis-database';

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;
const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', ${ISO})`;

/** One row per event of the session, in stream order; data and metadata as JSON text. */
function eventsSql(stream: string): string {
  return `SELECT global_position, stream_position, transaction_id::text || ':' || global_position AS checkpoint, type,
      schema_version, event_id, ${iso('created_at')} AS created_at, data::text AS data, metadata::text AS metadata
    FROM events WHERE stream_id = ${stream} ORDER BY stream_position`;
}

/** `answersSample` (libs/contracts) on a stored ExitDecided: the sample's live check that exited. */
const ANSWERS_SAMPLE = `data->>'shadow' = 'false' AND data->>'exited' = 'true'`;

/**
 * One row per sample the session started: its live exit and answer, each exit's entropy as logged
 * (shadow exits included: research sessions log every tier), devices missed and bytes (live and shadow).
 */
function samplesSql(stream: string): string {
  const idx = `(data->>'sampleIndex')::int`;
  return `SELECT s.sample_index, s.sample_id, s.label, x.tier AS exit_tier, x.prediction,
      CASE WHEN s.label IS NULL OR x.prediction IS NULL THEN NULL ELSE s.label = x.prediction END AS correct,
      e.local_entropy, e.edge_entropy, e.cloud_entropy,
      COALESCE(m.missed_scores, 0) AS devices_missed_scores, COALESCE(m.missed_features, 0) AS devices_missed_features,
      COALESCE(b.bytes, 0) AS bytes, COALESCE(b.shadow_bytes, 0) AS shadow_bytes
    FROM (SELECT ${idx} AS sample_index, data->>'sampleId' AS sample_id, (data->>'label')::int AS label
            FROM events WHERE stream_id = ${stream} AND type = 'SampleStarted') s
    LEFT JOIN (SELECT ${idx} AS sample_index,
                 (array_agg(data->>'tier' ORDER BY stream_position) FILTER (WHERE ${ANSWERS_SAMPLE}))[1] AS tier,
                 (array_agg((data->>'prediction')::int ORDER BY stream_position) FILTER (WHERE ${ANSWERS_SAMPLE}))[1] AS prediction
            FROM events WHERE stream_id = ${stream} AND type = 'ExitDecided' GROUP BY 1) x USING (sample_index)
    LEFT JOIN (SELECT ${idx} AS sample_index,
                 max((data->>'eta')::float8) FILTER (WHERE data->>'tier' = 'local') AS local_entropy,
                 max((data->>'eta')::float8) FILTER (WHERE data->>'tier' = 'edge') AS edge_entropy,
                 max((data->>'eta')::float8) FILTER (WHERE data->>'tier' = 'cloud') AS cloud_entropy
            FROM events WHERE stream_id = ${stream} AND type = 'ExitDecided' GROUP BY 1) e USING (sample_index)
    LEFT JOIN (SELECT ${idx} AS sample_index,
                 count(*) FILTER (WHERE data->>'stage' = 'scores') AS missed_scores,
                 count(*) FILTER (WHERE data->>'stage' = 'features') AS missed_features
            FROM events WHERE stream_id = ${stream} AND type = 'DeviceMissed' GROUP BY 1) m USING (sample_index)
    LEFT JOIN (SELECT ${idx} AS sample_index,
                 sum((data->>'bytes')::bigint) FILTER (WHERE data->>'shadow' = 'false') AS bytes,
                 sum((data->>'bytes')::bigint) FILTER (WHERE data->>'shadow' = 'true') AS shadow_bytes
            FROM events WHERE stream_id = ${stream} AND type = 'BytesTransferred' GROUP BY 1) b USING (sample_index)
    ORDER BY s.sample_index`;
}

/** One row per session of the sessions table, with its live outcome aggregated from its events (indexed per session). */
const SESSIONS_SQL = `SELECT s.id, s.status, s.mode, s.model_id, s.dataset, s.split, (s.spec->'policy')::text AS live_policy,
    s.sample_count, s.samples_done, ${iso('s.created_at')} AS created_at, ${iso('s.started_at')} AS started_at,
    ${iso('s.finished_at')} AS finished_at, x.samples AS samples_finished, x.accuracy, x.local_exit_rate,
    CASE WHEN x.samples > 0 THEN b.bytes::float8 / x.samples END AS bytes_per_sample
  FROM sessions s
  LEFT JOIN LATERAL (
    SELECT count(*) AS samples,
           avg(CASE WHEN data->'label' = 'null'::jsonb THEN NULL WHEN data->'label' = data->'prediction' THEN 1.0 ELSE 0.0 END)::float8 AS accuracy,
           avg(CASE WHEN data->>'tier' = 'local' THEN 1.0 ELSE 0.0 END)::float8 AS local_exit_rate
      FROM events WHERE stream_id = 'session-' || s.id::text AND type = 'ExitDecided'
       AND data->>'shadow' = 'false' AND data->>'exited' = 'true') x ON true
  LEFT JOIN LATERAL (
    SELECT sum((data->>'bytes')::bigint) AS bytes
      FROM events WHERE stream_id = 'session-' || s.id::text AND type = 'BytesTransferred' AND data->>'shadow' = 'false') b ON true
  ORDER BY s.created_at DESC, s.id`;

/**
 * CSV exports streamed straight out of Postgres (COPY ... TO STDOUT, FORMAT csv): rows flow from the
 * server to the HTTP response with back-pressure, so a million-event session never sits in memory, and
 * Postgres does the CSV quoting (RFC 4180: fields with commas, quotes or newlines quoted, quotes doubled).
 */
@Injectable()
export class CsvExport {
  constructor(private readonly db: AnalysisDatabase) {}

  /** Streams a session's samples or events as CSV (with a header line) into `out`. */
  session(sessionId: string, what: ExportWhat, out: Writable): Promise<void> {
    return this.copy((c) => {
      const stream = c.escapeLiteral(streamIds.session(sessionId));
      return what === 'events' ? eventsSql(stream) : samplesSql(stream);
    }, out);
  }

  /** Streams every session with its live outcome as CSV into `out`. */
  sessions(out: Writable): Promise<void> {
    return this.copy(() => SESSIONS_SQL, out);
  }

  private async copy(sql: (c: PoolClient) => string, out: Writable): Promise<void> {
    const client = await this.db.pool.connect();
    let failed: Error | undefined;
    try {
      // COPY takes no bind parameters: the one literal (the stream id) is escaped by the driver.
      const source = client.query(copyTo(`COPY (${sql(client)}) TO STDOUT WITH (FORMAT csv, HEADER true)`));
      await pipeline(source, out);
    } catch (e) {
      failed = e as Error;
      throw e;
    } finally {
      // A COPY cut short (client went away) leaves the connection mid-protocol: discard it, never reuse it.
      client.release(failed);
    }
  }
}
