import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { RUN_STOP_CHANNEL } from './advisory-lock';
import type { CreateSessionRequest, EndedRunStatus, RunKind, RunView, SessionRunStats, SessionSpec, SessionStatus, SessionView, StreamSpec, StreamView } from '@ddnn/contracts';

interface SessionRow {
  id: string;
  kind: RunKind;
  status: SessionStatus;
  spec: SessionSpec;
  model_id: string;
  dataset: string;
  split: 'train' | 'test';
  mode: 'production' | 'research';
  sample_count: number | null;
  samples_done: number;
  owner: string | null;
  demo: boolean;
  stop_requested: boolean;
  error: string | null;
  stats: SessionRunStats | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  deletion_requested_at: Date | null;
}

/** A run row (session or stream) as the engine needs it. */
export type SessionRecord = RunRecord<'session', CreateSessionRequest> | RunRecord<'stream', StreamSpec>;
interface RunRecord<K extends RunKind, S> {
  id: string;
  kind: K;
  status: SessionStatus;
  spec: S;
  sampleCount: number | null;
  samplesDone: number;
  stopRequested: boolean;
  demo: boolean;
}

const FINAL: readonly SessionStatus[] = ['completed', 'stopped', 'failed'] satisfies EndedRunStatus[];

/**
 * The sessions table: requests, lifecycle and progress of runs, research sessions and production streams
 * (kind). What a run did is in its event stream. Session views and lists are of kind 'session' only.
 */
@Injectable()
export class SessionStore {
  constructor(private readonly db: DataSource) {}

  /** Records a new pending session; `demo` sessions are unique (returns null when one already exists). */
  async create(spec: CreateSessionRequest, opts: { demo?: boolean } = {}): Promise<string | null> {
    const id = randomUUID();
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO sessions (id, status, spec, model_id, dataset, split, mode, demo)
       VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7)
       ON CONFLICT (demo) WHERE demo DO NOTHING RETURNING id`,
      [id, JSON.stringify(spec), spec.modelId, spec.dataset, spec.split, spec.mode, opts.demo ?? false],
    );
    return rows.length ? rows[0].id : null;
  }

  /** Records a new pending stream (no dataset, no sample count). */
  async createStream(spec: StreamSpec): Promise<string> {
    const id = randomUUID();
    await this.db.query(`INSERT INTO sessions (id, kind, status, spec, model_id, mode) VALUES ($1, 'stream', 'pending', $2, $3, $4)`, [
      id,
      JSON.stringify(spec),
      spec.modelId,
      spec.mode ?? 'production',
    ]);
    return id;
  }

  async get(id: string): Promise<SessionView | null> {
    const rows: SessionRow[] = await this.db.query(`SELECT * FROM sessions WHERE id = $1 AND kind = 'session'`, [id]);
    return rows.length ? toView(rows[0]) : null;
  }

  async getStream(id: string, captureToleranceMs: number): Promise<StreamView | null> {
    const rows: SessionRow[] = await this.db.query(`SELECT * FROM sessions WHERE id = $1 AND kind = 'stream'`, [id]);
    return rows.length ? toStreamView(rows[0], captureToleranceMs) : null;
  }

  /** Streams, newest first (optionally of one status), with the total count. */
  async listStreams(opts: RunListQuery, captureToleranceMs: number): Promise<{ items: StreamView[]; total: number }> {
    const { rows, total } = await this.listRows('stream', opts);
    return { items: rows.map((r) => toStreamView(r, captureToleranceMs)), total };
  }

  async record(id: string): Promise<SessionRecord | null> {
    const rows: SessionRow[] = await this.db.query(`SELECT * FROM sessions WHERE id = $1`, [id]);
    if (!rows.length) return null;
    const r = rows[0];
    const common = { id: r.id, status: r.status, sampleCount: r.sample_count, samplesDone: r.samples_done, stopRequested: r.stop_requested, demo: r.demo };
    return r.kind === 'stream' ? { ...common, kind: 'stream', spec: r.spec as StreamSpec } : { ...common, kind: 'session', spec: r.spec };
  }

  async list(opts: RunListQuery): Promise<{ items: SessionView[]; total: number }> {
    const { rows, total } = await this.listRows('session', opts);
    return { items: rows.map(toView), total };
  }

  private async listRows(kind: RunKind, opts: RunListQuery): Promise<{ rows: SessionRow[]; total: number }> {
    const where = opts.status ? `WHERE kind = $1 AND status = $2` : `WHERE kind = $1`;
    const params: unknown[] = opts.status ? [kind, opts.status] : [kind];
    const [rows, count]: [SessionRow[], { n: string }[]] = await Promise.all([
      this.db.query(
        `SELECT * FROM sessions ${where} ORDER BY created_at DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, opts.limit, opts.offset],
      ),
      this.db.query(`SELECT count(*) AS n FROM sessions ${where}`, params),
    ]);
    return { rows, total: Number(count[0].n) };
  }

  /** Sessions some node should be running: pending, or running (their owner may be gone). */
  async unfinishedIds(): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM sessions WHERE status IN ('pending', 'running') ORDER BY created_at, id LIMIT 100`,
    );
    return rows.map((r) => r.id);
  }

  async demoExists(): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM sessions WHERE demo`);
    return rows.length > 0;
  }

  /** A stream's sample count stays null: it has no end. */
  async markRunning(id: string, owner: string, sampleCount: number | null): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET status = 'running', owner = $2, sample_count = $3, started_at = coalesce(started_at, now()), updated_at = now()
        WHERE id = $1 AND status IN ('pending', 'running')`,
      [id, owner, sampleCount],
    );
  }

  async setProgress(id: string, samplesDone: number): Promise<void> {
    await this.db.query(`UPDATE sessions SET samples_done = $2, updated_at = now() WHERE id = $1`, [id, samplesDone]);
  }

  async finish(
    id: string,
    status: EndedRunStatus,
    samplesDone: number,
    error?: string,
    stats?: SessionRunStats,
  ): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET status = $2, samples_done = $3, error = $4, stats = coalesce($5, stats), owner = NULL,
              finished_at = now(), updated_at = now() WHERE id = $1`,
      [id, status, samplesDone, error ?? null, stats ? JSON.stringify(stats) : null],
    );
  }

  /**
   * Asks the owning node to stop (notified on RUN_STOP_CHANNEL at commit; a node that misses it finds the flag
   * on its next poll); a session no node has picked up yet stops at once.
   * Returns the status after the request, or null when there is no such session.
   */
  async requestStop(id: string, kind: RunKind = 'session'): Promise<SessionStatus | null> {
    const rows: { status: SessionStatus }[] = await this.db.query(
      `WITH stopped AS (
         UPDATE sessions SET stop_requested = true,
                status = CASE WHEN status = 'pending' THEN 'stopped' ELSE status END,
                finished_at = CASE WHEN status = 'pending' THEN now() ELSE finished_at END,
                updated_at = now()
          WHERE id = $1 AND kind = $2 RETURNING id, status)
       SELECT status, pg_notify('${RUN_STOP_CHANNEL}', id::text) FROM stopped`,
      [id, kind],
    );
    return rows.length ? rows[0].status : null;
  }

  /** True when an operator asked the run to stop, or its row is gone; read on `connection` when given (a SessionLock's). */
  async stopRequested(id: string, connection?: Pick<Client, 'query'>): Promise<boolean> {
    const sql = `SELECT stop_requested FROM sessions WHERE id = $1`;
    const rows: { stop_requested: boolean }[] = connection ? (await connection.query<{ stop_requested: boolean }>(sql, [id])).rows : await this.db.query(sql, [id]);
    return rows.length === 0 || rows[0].stop_requested;
  }

  static isFinal(status: SessionStatus): status is EndedRunStatus {
    return FINAL.includes(status);
  }
}

/** A page of runs, newest first, optionally of one status. */
interface RunListQuery {
  status?: SessionStatus;
  limit: number;
  offset: number;
}

/** The fields of RunView a session's row and a stream's row hold alike. */
function runFields(r: SessionRow): Omit<RunView, 'policy' | 'topology' | 'deadlineMs' | 'configuration'> {
  return {
    id: r.id,
    // Run metadata lives in session_runs (sessions/session-runs.repository.ts), merged in by SessionsService and
    // StreamsService.
    name: '',
    tags: [],
    note: '',
    status: r.status,
    modelId: r.model_id,
    mode: r.mode,
    samplesDone: r.samples_done,
    owner: r.owner,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    deletingSince: r.deletion_requested_at?.toISOString() ?? null,
    stats: r.stats,
    summary: null,
  };
}

function toView(r: SessionRow): SessionView {
  return {
    ...runFields(r),
    dataset: r.dataset,
    split: r.split,
    policy: r.spec.policy,
    topology: r.spec.topology,
    deadlineMs: r.spec.deadlineMs,
    rate: r.spec.rate ?? null,
    limit: r.spec.limit ?? null,
    configuration: r.spec.configuration ?? null,
    sampleCount: r.sample_count,
    demo: r.demo,
  };
}

function toStreamView(r: SessionRow, captureToleranceMs: number): StreamView {
  const spec = r.spec as StreamSpec;
  return {
    ...runFields(r),
    kind: 'stream',
    policy: spec.policy,
    topology: spec.topology,
    deadlineMs: spec.deadlineMs,
    rate: spec.rate,
    captureToleranceMs,
    configuration: spec.configuration ?? null,
    replay: spec.replay ?? null,
  };
}
