import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The metrics rollup remembers each decided stream sample until its label arrives (metric_rollup_samples: the exit,
 * prediction and confidence bin the label is counted against). A camera stream that is never labelled kept every
 * sample's row for ever, after stream retention had dropped the sample's events: a row a sample, growing for the
 * life of the fleet whatever DDNN_STREAM_RETENTION_DAYS said. `updated_at` is when the rollup last wrote a state
 * (its sample's decision, or a label waiting for one); retention deletes the stream runs' states older than the
 * partitions it dropped (pruneRollupSampleStates). BRIN, not btree: states are written in time order and read by age
 * once an hour, so a range index costs their inserts nothing.
 */
export class MetricRollupSampleAges1766100000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_rollup_samples ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE INDEX metric_rollup_samples_updated_idx ON metric_rollup_samples USING brin (updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX metric_rollup_samples_updated_idx`);
    await q.query(`ALTER TABLE metric_rollup_samples DROP COLUMN updated_at`);
  }
}
