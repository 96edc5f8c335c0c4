import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { CreateSessionRequest, SessionRunStats, SessionSpec, SessionStatus, SessionView } from '@ddnn/contracts';

interface SessionRow {
  id: string;
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
}

/** A session row as the engine needs it. */
export interface SessionRecord {
  id: string;
  status: SessionStatus;
  spec: CreateSessionRequest;
  sampleCount: number | null;
  samplesDone: number;
  stopRequested: boolean;
  demo: boolean;
}

const FINAL: SessionStatus[] = ['completed', 'stopped', 'failed'];

/** The sessions table: requests, lifecycle and progress. What a session did is in its event stream. */
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

  async get(id: string): Promise<SessionView | null> {
    const rows: SessionRow[] = await this.db.query(`SELECT * FROM sessions WHERE id = $1`, [id]);
    return rows.length ? toView(rows[0]) : null;
  }

  async record(id: string): Promise<SessionRecord | null> {
    const rows: SessionRow[] = await this.db.query(`SELECT * FROM sessions WHERE id = $1`, [id]);
    if (!rows.length) return null;
    const r = rows[0];
    return { id: r.id, status: r.status, spec: r.spec, sampleCount: r.sample_count, samplesDone: r.samples_done, stopRequested: r.stop_requested, demo: r.demo };
  }

  async list(opts: { status?: SessionStatus; limit: number; offset: number }): Promise<{ items: SessionView[]; total: number }> {
    const where = opts.status ? 'WHERE status = $1' : '';
    const params: unknown[] = opts.status ? [opts.status] : [];
    const [rows, count]: [SessionRow[], { n: string }[]] = await Promise.all([
      this.db.query(
        `SELECT * FROM sessions ${where} ORDER BY created_at DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, opts.limit, opts.offset],
      ),
      this.db.query(`SELECT count(*) AS n FROM sessions ${where}`, params),
    ]);
    return { items: rows.map(toView), total: Number(count[0].n) };
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

  async markRunning(id: string, owner: string, sampleCount: number): Promise<void> {
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
    status: Extract<SessionStatus, 'completed' | 'stopped' | 'failed'>,
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
   * Asks the owning node to stop (it polls the flag); a session no node has picked up yet stops at once.
   * Returns the status after the request, or null when there is no such session.
   */
  async requestStop(id: string): Promise<SessionStatus | null> {
    // TypeORM answers an UPDATE ... RETURNING on Postgres with [rows, affected].
    const [rows]: [{ status: SessionStatus }[], number] = await this.db.query(
      `UPDATE sessions SET stop_requested = true,
              status = CASE WHEN status = 'pending' THEN 'stopped' ELSE status END,
              finished_at = CASE WHEN status = 'pending' THEN now() ELSE finished_at END,
              updated_at = now()
        WHERE id = $1 RETURNING status`,
      [id],
    );
    return rows.length ? rows[0].status : null;
  }

  async stopRequested(id: string): Promise<boolean> {
    const rows: { stop_requested: boolean }[] = await this.db.query(`SELECT stop_requested FROM sessions WHERE id = $1`, [id]);
    return rows.length === 0 || rows[0].stop_requested;
  }

  static isFinal(status: SessionStatus): boolean {
    return FINAL.includes(status);
  }
}

function toView(r: SessionRow): SessionView {
  return {
    id: r.id,
    // Run metadata lives in session_runs (sessions/session-runs.repository.ts), merged in by SessionsService.
    name: '',
    tags: [],
    note: '',
    status: r.status,
    modelId: r.model_id,
    dataset: r.dataset,
    split: r.split,
    mode: r.mode,
    policy: r.spec.policy,
    topology: r.spec.topology,
    deadlineMs: r.spec.deadlineMs,
    rate: r.spec.rate ?? null,
    limit: r.spec.limit ?? null,
    configuration: r.spec.configuration ?? null,
    sampleCount: r.sample_count,
    samplesDone: r.samples_done,
    owner: r.owner,
    demo: r.demo,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    stats: r.stats,
    summary: null,
  };
}
