import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The metrics rollup (issue 17), kept by its own subscription (`metrics-rollup`): one row per resolution (one
 * minute, one hour), bucket, run and scope (the run, one device of it, one link of it). A new install or an
 * upgrade starts with empty tables and the subscription replays the whole log into them.
 */
export class MetricsRollup1765200000001 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE metric_rollups (
        resolution integer NOT NULL,
        bucket bigint NOT NULL,
        run_id text NOT NULL,
        scope text NOT NULL CHECK (scope IN ('run', 'device', 'link')),
        key text NOT NULL,
        cell jsonb NOT NULL,
        PRIMARY KEY (resolution, run_id, scope, key, bucket)
      )`);
    // Device and link charts across runs, and the fleet-wide ones (scope 'run', key ''), read by time.
    await q.query(`CREATE INDEX metric_rollups_subject_idx ON metric_rollups (resolution, scope, key text_pattern_ops, bucket)`);
    await q.query(`
      CREATE TABLE metric_rollup_samples (
        run_id text NOT NULL,
        sample_index integer NOT NULL,
        state jsonb NOT NULL,
        PRIMARY KEY (run_id, sample_index)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS metric_rollup_samples`);
    await q.query(`DROP TABLE IF EXISTS metric_rollups`);
    await q.query(`DELETE FROM subscription_checkpoints WHERE name = 'metrics-rollup'`);
  }
}
