import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rewindProjections } from './1764748800000-session-summary-shape';

/**
 * A device's lifetime counters tell its skipped captures (`notCaptured`: nothing was captured, so nothing was asked
 * of it) apart from its misses, as device_miss_rate and every run page do; the device page showed them as one
 * "missed or not captured" number. device_run_counts keeps each run's share of them, for a run's deletion to take
 * back. Only a replay can split the counts already folded, so the projections are rewound (as for the counters).
 */
export class DeviceNotCaptured1766400000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE device_run_counts ADD COLUMN not_captured bigint NOT NULL DEFAULT 0');
    await rewindProjections(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE device_run_counts DROP COLUMN not_captured');
    await rewindProjections(q);
  }
}
