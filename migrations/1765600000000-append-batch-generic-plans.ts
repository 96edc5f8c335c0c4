import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * append_batch's statements are planned once per connection instead of for every batch's arrays.
 *
 * PL/pgSQL plans each statement with the call's values (a custom plan) for a connection's first five calls, and on
 * after that whenever the generic plan looks dearer. With the values, the branch probe's `event_id = ANY (p_kept_ids)`
 * has a constant array of every event id of the batch, and the planner estimates each element against every
 * partition: in bench:session (pg_stat_statements, track_planning) the probe was planned 54-60 times in 83-86 calls,
 * 180-235 ms of planning for 10-25 ms of execution, and the insert 54 times (65-81 ms); the API's pool opens
 * connections as it needs them, so the first calls are many. The generic plan prunes the same partitions when it
 * starts (the ids' bounds p_kept_lo and p_kept_hi are compared with the day partitions' bounds) and the insert has
 * nothing a value could change. The setting holds during the call only, append_events (the slow path) included.
 */
export class AppendBatchGenericPlans1765600000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION ${APPEND_BATCH_SIGNATURE} SET plan_cache_mode = force_generic_plan`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION ${APPEND_BATCH_SIGNATURE} RESET plan_cache_mode`);
  }
}

export const APPEND_BATCH_SIGNATURE =
  'append_batch(text[], integer[], integer[], bigint[], integer[], uuid[], integer[], text, integer[], text, text, uuid[], uuid, uuid, uuid[])';
