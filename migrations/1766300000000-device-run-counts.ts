import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rewindProjections } from './1764748800000-session-summary-shape';

/**
 * A device's lifetime `answered` and `missed` (device_statuses) are folded from the events of every run it served;
 * deleting a run removed its events but not its share of those counters, so the counters disagreed with a rebuild
 * from the log until one ran. device_run_counts keeps each run's share, per device, written by the projections in
 * the batch that folds it; at the run's RunDeleted the projections take the share back and drop the rows (a rebuild
 * never sees the deleted events and finds no rows to take back, so both end equal). The projections are rewound so
 * the replay fills the table for the runs logged so far. Keyed by run first: a deletion looks its run's rows up.
 */
export class DeviceRunCounts1766300000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_run_counts (
        run_id text NOT NULL,
        device_id text NOT NULL,
        answered bigint NOT NULL DEFAULT 0,
        missed bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (run_id, device_id)
      )`);
    await rewindProjections(q);
  }

  // The older code keeps counters without the table; a rewind lets it fold them as it always did.
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE device_run_counts');
    await rewindProjections(q);
  }
}
