import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Simulations created through the API outlive the process that runs them: a restart (or another node, when that
 * one died) starts a persisted simulation again with the same devices, link model and failures, and deletes the
 * devices of one that was not persisted and that no unfinished run uses, so neither leaves ghost devices behind.
 * `device_ids` are in device-index order; `node` names the node that runs it (the advisory lock is the truth).
 */
export class Simulations1766700000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE simulations (
        id uuid PRIMARY KEY,
        request jsonb NOT NULL,
        device_ids uuid[] NOT NULL,
        persist boolean NOT NULL,
        session_id uuid,
        node text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS simulations');
  }
}
