import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The metrics rollup counts a stream's gaps (StreamGap), so a window too long to read event by event still says how
 * many triggers it missed and why (GET /api/metrics/totals). Not rewound, as for `unanswered`: buckets from before
 * the upgrade have no count, and read as no gap.
 */
export class MetricsStreamGaps1766750000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_rollups ADD COLUMN "gaps" json`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_rollups DROP COLUMN IF EXISTS "gaps"`);
  }
}
