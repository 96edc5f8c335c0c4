import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SessionListQuery, UpdateSessionRequest } from '@ddnn/contracts';

export interface RunMetadata {
  name: string;
  tags: string[];
  note: string;
}

const EMPTY: RunMetadata = { name: '', tags: [], note: '' };

/**
 * Runs as experiments: the operator-editable name, tags and note of each session (session_runs), and the
 * filtered sessions list. The engine never reads these; the list is one query so it can move onto the
 * session_summaries projection without changing its callers.
 */
@Injectable()
export class SessionRunsRepository {
  constructor(private readonly db: DataSource) {}

  async get(id: string): Promise<RunMetadata> {
    return (await this.many([id])).get(id) ?? EMPTY;
  }

  async many(ids: string[]): Promise<Map<string, RunMetadata>> {
    if (!ids.length) return new Map();
    const rows: (RunMetadata & { session_id: string })[] = await this.db.query(`SELECT session_id, name, tags, note FROM session_runs WHERE session_id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map((r) => [r.session_id, { name: r.name, tags: r.tags, note: r.note }]));
  }

  /** Sets the given fields (others kept); the session must exist. */
  async update(id: string, patch: UpdateSessionRequest): Promise<void> {
    const tags = patch.tags ? [...new Set(patch.tags)] : null;
    await this.db.query(
      `INSERT INTO session_runs (session_id, name, tags, note) VALUES ($1, coalesce($2, ''), coalesce($3::text[], '{}'), coalesce($4, ''))
       ON CONFLICT (session_id) DO UPDATE SET name = coalesce($2, session_runs.name), tags = coalesce($3::text[], session_runs.tags),
              note = coalesce($4, session_runs.note), updated_at = now()`,
      [id, patch.name ?? null, tags, patch.note ?? null],
    );
  }

  /** Session ids, newest first, matching every filter given; with the total count. */
  async list(q: SessionListQuery & { limit: number; offset: number }, policy: { local: number; edge: number | null } | null): Promise<{ ids: string[]; total: number }> {
    const where: string[] = [`s.kind = 'session'`];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, v: unknown) => {
      params.push(v);
      where.push(sql(`$${params.length}`));
    };
    if (q.status) add((p) => `s.status = ${p}`, q.status);
    if (q.modelId) add((p) => `s.model_id = ${p}`, q.modelId);
    if (q.dataset) add((p) => `s.dataset = ${p}`, q.dataset);
    if (q.mode) add((p) => `s.mode = ${p}`, q.mode);
    if (q.tag) add((p) => `${p} = ANY(r.tags)`, q.tag);
    if (policy) {
      add((p) => `(s.spec->'policy'->'thresholds'->>'local')::float8 = ${p}`, policy.local);
      if (policy.edge === null) where.push(`NOT (s.spec->'policy'->'thresholds' ? 'edge')`);
      else add((p) => `(s.spec->'policy'->'thresholds'->>'edge')::float8 = ${p}`, policy.edge);
    }
    const from = `FROM sessions s LEFT JOIN session_runs r ON r.session_id = s.id WHERE ${where.join(' AND ')}`;
    const [rows, count]: [{ id: string }[], { n: string }[]] = await Promise.all([
      this.db.query(`SELECT s.id ${from} ORDER BY s.created_at DESC, s.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`, [...params, q.limit, q.offset]),
      this.db.query(`SELECT count(*) AS n ${from}`, params),
    ]);
    return { ids: rows.map((r) => r.id), total: Number(count[0].n) };
  }
}
