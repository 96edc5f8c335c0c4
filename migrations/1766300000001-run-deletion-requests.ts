import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A run's deletion may outlast its request: a weeks-long stream's millions of events go a chunk at a time (about a
 * minute per million here). The run's row records when its deletion was asked for, so the request can answer 202 and
 * let the node go on, and any node resumes a deletion whose node died (RunDeletionService); the row goes with the
 * deletion's last transaction.
 */
export class RunDeletionRequests1766300000001 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sessions ADD COLUMN deletion_requested_at timestamptz');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sessions DROP COLUMN deletion_requested_at');
  }
}
