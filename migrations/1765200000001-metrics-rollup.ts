import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The metrics rollup (issue 17), kept by its own subscription (`metrics-rollup`): one row per resolution (one
 * minute, one hour), bucket, run and scope (the run, one device of it, one link of it). Each field of a cell is
 * its own column, so a chart reads only the one it draws (a whole cell with its histograms is several KB of
 * TOASTed JSON: a 7-day, one-minute read of single cells took 0.5 s, of one column a few tens of ms). A new install or an
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
        "samples" jsonb,
        "decided" jsonb,
        "exits" jsonb,
        "entropy" jsonb,
        "confidence" jsonb,
        "confidenceLabelled" jsonb,
        "confidenceCorrect" jsonb,
        "labelled" jsonb,
        "correct" jsonb,
        "labelledByExit" jsonb,
        "correctByExit" jsonb,
        "answered" jsonb,
        "missed" jsonb,
        "missedBy" jsonb,
        "latency" jsonb,
        "sectionEntropy" jsonb,
        "agreeN" jsonb,
        "agree" jsonb,
        "messages" jsonb,
        "bytes" jsonb,
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
