import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sessions: the request and the lifecycle of each DDNN session. What a session did lives in the event log
 * (stream session-<id>); this table holds only what a node needs to own, resume or list it. Ownership is a
 * Postgres advisory lock held by the running node; `owner` only names it for people.
 */
export class Sessions1764316800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'stopped', 'failed')),
        spec jsonb NOT NULL,
        model_id text NOT NULL,
        dataset text NOT NULL,
        split text NOT NULL,
        mode text NOT NULL,
        sample_count integer,
        samples_done integer NOT NULL DEFAULT 0,
        owner text,
        demo boolean NOT NULL DEFAULT false,
        stop_requested boolean NOT NULL DEFAULT false,
        error text,
        -- What the owning node measured (time in model, transport and logging), for the session benchmark.
        stats jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX sessions_created_idx ON sessions (created_at DESC, id)`);
    await q.query(`CREATE INDEX sessions_status_created_idx ON sessions (status, created_at DESC, id)`);
    // npm start records its demo session once, whatever the number of nodes starting at the same time.
    await q.query(`CREATE UNIQUE INDEX sessions_one_demo_idx ON sessions (demo) WHERE demo`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS sessions`);
  }
}
