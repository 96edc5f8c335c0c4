import { Injectable } from '@nestjs/common';
import type { CreateSimulationRequest } from '@ddnn/contracts';
import { Database } from '../database/database';

/** What a node needs to start a simulation again: its request, and its devices by index. */
export interface SimulationRecord {
  id: string;
  request: CreateSimulationRequest;
  deviceIds: string[];
  persist: boolean;
  sessionId: string | null;
  node: string | null;
}

type Row = { id: string; request: CreateSimulationRequest; device_ids: string[]; persist: boolean; session_id: string | null; node: string | null };
const toRecord = (r: Row): SimulationRecord => ({ id: r.id, request: r.request, deviceIds: r.device_ids, persist: r.persist, sessionId: r.session_id, node: r.node });
const COLUMNS = 'id::text AS id, request, device_ids::text[] AS device_ids, persist, session_id::text AS session_id, node';

/** The `simulations` table (migrations/1766700000000-simulations.ts). */
@Injectable()
export class SimulationRecords {
  constructor(private readonly db: Database) {}

  async insert(r: SimulationRecord): Promise<void> {
    await this.db.pool.query(`INSERT INTO simulations (id, request, device_ids, persist, session_id, node) VALUES ($1, $2, $3::uuid[], $4, $5, $6)`, [
      r.id,
      JSON.stringify(r.request),
      r.deviceIds,
      r.persist,
      r.sessionId,
      r.node,
    ]);
  }

  async get(id: string): Promise<SimulationRecord | null> {
    const { rows } = await this.db.pool.query<Row>(`SELECT ${COLUMNS} FROM simulations WHERE id = $1`, [id]);
    return rows.length ? toRecord(rows[0]) : null;
  }

  /** Every recorded simulation but `except` (those this node runs), oldest first. */
  async others(except: string[]): Promise<SimulationRecord[]> {
    const { rows } = await this.db.pool.query<Row>(`SELECT ${COLUMNS} FROM simulations WHERE NOT (id = ANY ($1::uuid[])) ORDER BY created_at, id`, [except]);
    return rows.map(toRecord);
  }

  /** The devices of every recorded simulation but `id`: theirs to come back to, never another simulation's idle pick. */
  async devicesOfOthers(id: string): Promise<Set<string>> {
    const { rows } = await this.db.pool.query<{ d: string }>(`SELECT DISTINCT unnest(device_ids)::text AS d FROM simulations WHERE id <> $1`, [id]);
    return new Set(rows.map((r) => r.d));
  }

  /** The devices queued or running runs (sessions and streams) name: a replacement device is never one of them. */
  async devicesOfRuns(): Promise<Set<string>> {
    const { rows } = await this.db.pool.query<{ d: string }>(
      `SELECT DISTINCT d->>'deviceId' AS d FROM sessions, jsonb_array_elements(spec->'topology'->'devices') d
        WHERE status IN ('pending', 'running') AND deletion_requested_at IS NULL`,
    );
    return new Set(rows.map((r) => r.d));
  }

  /** After a start on this node: its devices now (one may have been replaced), its node, its run. */
  async restarted(id: string, deviceIds: string[], node: string, sessionId: string | null): Promise<void> {
    await this.db.pool.query(`UPDATE simulations SET device_ids = $2::uuid[], node = $3, session_id = $4, updated_at = now() WHERE id = $1`, [id, deviceIds, node, sessionId]);
  }

  async bind(id: string, sessionId: string | null): Promise<void> {
    await this.db.pool.query(`UPDATE simulations SET session_id = $2, updated_at = now() WHERE id = $1`, [id, sessionId]);
  }

  async delete(id: string): Promise<void> {
    await this.db.pool.query(`DELETE FROM simulations WHERE id = $1`, [id]);
  }

  /**
   * The queued or running runs (sessions and streams) that use the simulation: the one it is bound to, and any whose
   * topology names one of its devices. Empty when every run that used it has ended.
   */
  async runsUsing(r: Pick<SimulationRecord, 'sessionId' | 'deviceIds'>): Promise<string[]> {
    const { rows } = await this.db.pool.query<{ id: string }>(
      `SELECT id::text AS id FROM sessions
        WHERE status IN ('pending', 'running') AND deletion_requested_at IS NULL
          AND (id = $1 OR EXISTS (SELECT 1 FROM jsonb_array_elements(spec->'topology'->'devices') d WHERE d->>'deviceId' = ANY ($2::text[])))`,
      [r.sessionId, r.deviceIds],
    );
    return rows.map((x) => x.id);
  }
}
