import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The metrics rollup counts, per device, how often its argmax equals the plurality of the other devices of the
 * sample (`peerAgree`, `peerAgreeN`), and keys its confidence histograms by stratum (predicted class, device
 * agreement). Both tables are cleared and the subscription rewound, so the next node that runs it replays the
 * whole log into the new shape (runs from before the upgrade can still be references). No-op on a fresh database.
 */
export class MetricsPeerAgreement1765400000010 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_rollups ADD COLUMN "peerAgreeN" json, ADD COLUMN "peerAgree" json`);
    await rewindRollup(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE metric_rollups DROP COLUMN IF EXISTS "peerAgreeN", DROP COLUMN IF EXISTS "peerAgree"`);
    await rewindRollup(q);
  }
}

async function rewindRollup(q: QueryRunner): Promise<void> {
  await q.query(`DELETE FROM metric_rollups`);
  await q.query(`DELETE FROM metric_rollup_samples`);
  await q.query(`UPDATE subscription_checkpoints SET checkpoint = '0:0', updated_at = now() WHERE name = 'metrics-rollup'`);
}
