import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Read models kept by the projections subscription: session summaries and device status (JSON documents). */
export class Projections1764230400002 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE session_summaries (
        session_id text PRIMARY KEY,
        status text NOT NULL,
        summary jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX session_summaries_status_idx ON session_summaries (status)`);
    await q.query(`
      CREATE TABLE device_statuses (
        device_id text PRIMARY KEY,
        connectivity text NOT NULL,
        status jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS device_statuses`);
    await q.query(`DROP TABLE IF EXISTS session_summaries`);
  }
}
