import { Injectable } from '@nestjs/common';
import { streamIds, type ExitTier, type StoredEvent } from '@ddnn/contracts';
import { mergeCells, readRollup, readRollupByKey, readRollupTexts, type RollupCell, type RollupRead } from '@ddnn/events';
import { Database } from '../../database/database';
import { CONNECTIVITY_EVENTS } from './connectivity';

/**
 * Labelled samples a run needs to be chosen as a reference by default (one named with `reference=` may have fewer). A
 * test stream stopped after three labels, all wrong, became the default reference of its model: the demo stream's
 * estimated accuracy fell to 0.32 while its labels said 0.96, and the default "Estimated accuracy dropped" alert fired.
 * 30, the floor peer_agreement_drift also keeps: below it a calibration is mostly noise (and its interval says so).
 */
export const MIN_REFERENCE_LABELLED = 30;

/** The metrics' I/O: rollup cells, the runs' summaries (model, labels) and a device's connectivity events. */
@Injectable()
export class MetricsRepository {
  constructor(private readonly db: Database) {}

  cells(q: RollupRead): Promise<{ bucket: number; cell: RollupCell }[]> {
    return readRollup(this.db.pool, q);
  }

  /** The cells of every key of a scope in the window, by key. */
  cellsByKey(q: Omit<RollupRead, 'key' | 'keyPrefix'>): Promise<Map<string, { bucket: number; cell: RollupCell }[]>> {
    return readRollupByKey(this.db.pool, q);
  }

  /** The stored texts of the exits' confidence histograms, row by row in ascending buckets, for an accuracy estimate. */
  confidenceTexts(q: RollupRead, exits: readonly ExitTier[], visit: (bucket: number, texts: (string | null)[]) => void): Promise<void> {
    return readRollupTexts(this.db.pool, q, 'confidence', exits, visit);
  }

  /** A run's whole rollup cell (hourly buckets summed), for a reference. */
  async runTotal(runId: string, scope: 'run' | 'device', key: string, fields: RollupRead['fields']): Promise<RollupCell> {
    const cells = await readRollup(this.db.pool, { resolution: 3_600_000, scope, key, runId, from: 0, to: Number.MAX_SAFE_INTEGER, fields });
    return cells.reduce((acc, c) => mergeCells(acc, c.cell), {} as RollupCell);
  }

  /** The run's model and labelled-sample count, from its stored summary (null: no such run in the log). */
  async run(runId: string): Promise<{ modelId: string | null; labelled: number } | null> {
    const { rows } = await this.db.pool.query<{ model_id: string | null; labelled: number | null }>(
      `SELECT summary->>'modelId' AS model_id, (summary->>'labelled')::int AS labelled FROM session_summaries WHERE session_id = $1`,
      [runId],
    );
    return rows.length ? { modelId: rows[0].model_id, labelled: rows[0].labelled ?? 0 } : null;
  }

  /**
   * The default reference: the most recent completed run (by when it ended: a rebuild of the projections gives every
   * row one updated_at) with at least MIN_REFERENCE_LABELLED labelled samples, of the given model when one is given,
   * other than `except`. A device's reference is latestLabelledRunsByDevice's.
   */
  async latestLabelledRun(modelId: string | null, except?: string): Promise<string | null> {
    const { rows } = await this.db.pool.query<{ session_id: string }>(
      `SELECT session_id FROM session_summaries
        WHERE status = 'completed' AND (summary->>'labelled')::int >= $3
          AND ($1::text IS NULL OR summary->>'modelId' = $1) AND ($2::text IS NULL OR session_id <> $2)
        ORDER BY summary->>'endedAt' DESC NULLS LAST, updated_at DESC, session_id LIMIT 1`,
      [modelId, except ?? null, MIN_REFERENCE_LABELLED],
    );
    return rows[0]?.session_id ?? null;
  }

  /**
   * Each device's default reference (a device is compared with itself): the most recent completed run with labels
   * that it took part in, as latestLabelledRun chooses runs, for the given devices or, with null, for every device
   * at once (an alert round asks for all of them: one query instead of one per device). A device that only ever
   * served a stream (which never completes) is compared with the labelled stream it serves, its own history so far:
   * the demo's degraded camera had no reference, so its drift had no value. That history includes the window judged:
   * a lasting degradation pulls it down, so the drift fades as it becomes the stream's normal.
   */
  async latestLabelledRunsByDevice(modelId: string | null, except: string | undefined, deviceIds: readonly string[] | null): Promise<Map<string, string>> {
    const { rows } = await this.db.pool.query<{ device_id: string; session_id: string }>(
      `SELECT DISTINCT ON (m.key) m.key AS device_id, s.session_id FROM session_summaries s
         JOIN metric_rollups m ON m.run_id = s.session_id AND m.resolution = 3600000 AND m.scope = 'device'
        WHERE (s.status = 'completed' OR (s.status = 'running' AND s.summary->>'kind' = 'stream')) AND (s.summary->>'labelled')::int >= $4
          AND ($1::text IS NULL OR s.summary->>'modelId' = $1) AND ($2::text IS NULL OR s.session_id <> $2)
          AND ($3::text[] IS NULL OR m.key = ANY ($3))
        ORDER BY m.key, s.status = 'completed' DESC, s.summary->>'endedAt' DESC NULLS LAST, s.updated_at DESC, s.session_id`,
      [modelId, except ?? null, deviceIds, MIN_REFERENCE_LABELLED],
    );
    return new Map(rows.map((r) => [r.device_id, r.session_id]));
  }

  /** The device's connectivity events (connected, disconnected, inactive), oldest first. */
  async connectivityEvents(deviceId: string): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for await (const page of this.db.store.streamPages(streamIds.device(deviceId))) {
      for (const e of page) if (CONNECTIVITY_EVENTS.has(e.type)) out.push(e);
    }
    return out;
  }
}
