import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Read checkpoints of named subscribers, so that a restarted consumer resumes where it stopped. */
export class Subscriptions1764230400001 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE subscription_checkpoints (
        name text PRIMARY KEY CHECK (length(name) > 0),
        checkpoint text NOT NULL DEFAULT '0:0',
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS subscription_checkpoints`);
  }
}
