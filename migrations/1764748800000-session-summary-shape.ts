import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * session_summaries rows now hold the one SessionSummary shape (libs/contracts `foldSessionSummary`, the fold
 * the API also runs) instead of the older projection document, which the new fold cannot continue. Both
 * projection tables are cleared and the projections subscription rewound to the start of the log, so the next
 * node that runs it rebuilds them (as `rebuildProjections` does). device_statuses is cleared too because the
 * replay re-applies every event to it. No-op on a fresh database (no rows, no checkpoint yet).
 */
export class SessionSummaryShape1764748800000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await rewindProjections(q);
  }

  // The old code can rebuild its own shape the same way.
  async down(q: QueryRunner): Promise<void> {
    await rewindProjections(q);
  }
}

/**
 * Clears the projections' tables and rewinds their subscriber, so the next node to run it replays the log.
 * device_run_counts (1766300000000) is younger than the migrations that first called this: cleared when it exists.
 */
export async function rewindProjections(q: QueryRunner): Promise<void> {
  await q.query(`DELETE FROM session_summaries`);
  await q.query(`DELETE FROM device_statuses`);
  await q.query(`DO $$ BEGIN IF to_regclass('device_run_counts') IS NOT NULL THEN DELETE FROM device_run_counts; END IF; END $$`);
  await q.query(`UPDATE subscription_checkpoints SET checkpoint = '0:0', updated_at = now() WHERE name = 'projections'`);
}
