import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The metrics rollup counts the samples that ended without an answer (SampleUnanswered), for `unanswered_rate`.
 * The rollup is not rewound: a replay would lose the cells of stream minutes whose events retention has dropped
 * (the rollup is their only record). Buckets from before the upgrade have no count, and read as none unanswered.
 */
export class MetricsUnanswered1766600000001 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_rollups ADD COLUMN "unanswered" json`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_rollups DROP COLUMN IF EXISTS "unanswered"`);
  }
}
