import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runs tracked like experiments and devices with a lifecycle: a session's operator-editable name, tags and note
 * live beside the sessions table (the engine never reads them); devices get tags and the last problem the agent
 * reported (null once it works again).
 */
export class RunsAndDeviceLifecycle1764835200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE session_runs (
        session_id uuid PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        name text NOT NULL DEFAULT '',
        tags text[] NOT NULL DEFAULT '{}',
        note text NOT NULL DEFAULT '',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX session_runs_tags ON session_runs USING gin (tags)`);
    await q.query(`ALTER TABLE devices ADD COLUMN tags text[] NOT NULL DEFAULT '{}'`);
    await q.query(`ALTER TABLE devices ADD COLUMN problem text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices DROP COLUMN problem`);
    await q.query(`ALTER TABLE devices DROP COLUMN tags`);
    await q.query(`DROP TABLE session_runs`);
  }
}
