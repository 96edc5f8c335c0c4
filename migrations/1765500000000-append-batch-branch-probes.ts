import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_BATCH_FUNCTION } from './1764662400000-append-batch-fast-path';
import { APPEND_BATCH_PARTITIONED, replaceOnce } from './1765100000000-partitioned-events';

/**
 * append_batch's look-up of each event id in the other partition branch (PartitionedEvents1765100000000) was a
 * correlated subquery per event, its partition chosen at run time for each one. The event store now says which ids
 * go to which branch, and each branch is probed once for the whole batch with `= ANY`: the ids bound for
 * events_kept in the events_stream partitions their range covers (UUIDv7 ids made at one time all fall in one day),
 * the ids bound for events_stream in events_kept's unique index. In append_batch (auto_explain, 480 session events
 * a batch, busy machine) the look-up took 0.61-0.65 ms before, 0.29-0.49 ms after: a few percent of the append,
 * whose insert (heap, four indexes, jsonb) is the rest. The outcome is unchanged: an id stored in the other branch
 * sends the batch to append_events.
 */
export class AppendBatchBranchProbes1765500000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(DROP_ELEVEN_ARGUMENTS);
    await q.query(APPEND_BATCH_BRANCH_PROBES);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(DROP_FIFTEEN_ARGUMENTS);
    await q.query(APPEND_BATCH_PARTITIONED);
  }
}

const DROP_ELEVEN_ARGUMENTS = 'DROP FUNCTION append_batch(text[], integer[], integer[], bigint[], integer[], uuid[], integer[], text, integer[], text, text)';
const DROP_FIFTEEN_ARGUMENTS =
  'DROP FUNCTION append_batch(text[], integer[], integer[], bigint[], integer[], uuid[], integer[], text, integer[], text, text, uuid[], uuid, uuid, uuid[])';

/*
 * As APPEND_BATCH_PARTITIONED, with four more arguments the caller derives from the streams (`stream-` ids go to
 * events_stream, every other to events_kept): p_kept_ids, the batch's ids bound for events_kept, and their least
 * and greatest (p_kept_lo, p_kept_hi: they prune the probe to the partitions in between); p_stream_ids, the ids
 * bound for events_stream. Ids left out of them are not looked up in the other branch (the event store always
 * passes all of them).
 */
export const APPEND_BATCH_BRANCH_PROBES = replaceOnce(
  replaceOnce(
    APPEND_BATCH_FUNCTION,
    'p_ranks integer[], p_types text, p_versions integer[], p_data text, p_metadata text\n)',
    'p_ranks integer[], p_types text, p_versions integer[], p_data text, p_metadata text,\n  p_kept_ids uuid[], p_kept_lo uuid, p_kept_hi uuid, p_stream_ids uuid[]\n)',
  ),
  `  IF array_remove(p_expected, NULL) = '{}' THEN
    BEGIN
`,
  `  IF array_remove(p_expected, NULL) = '{}' THEN
    BEGIN
      IF (cardinality(p_kept_ids) > 0
          AND EXISTS (SELECT 1 FROM events_stream s WHERE s.event_id = ANY (p_kept_ids) AND s.event_id BETWEEN p_kept_lo AND p_kept_hi))
         OR (cardinality(p_stream_ids) > 0 AND EXISTS (SELECT 1 FROM events_kept k WHERE k.event_id = ANY (p_stream_ids))) THEN
        RAISE unique_violation USING MESSAGE = 'append_batch: an event id is stored in the other partition branch';
      END IF;
      -- events_stream has no unique key on positions: check that no two events of one stream share a rank.
      IF cardinality(p_stream_ids) > 0
         AND (SELECT count(DISTINCT p_req_stream[x.r]::bigint * 2147483648 + x.o) FROM unnest(p_req, p_ranks) AS x(r, o)) <> n_ev THEN
        RAISE unique_violation USING MESSAGE = 'append_batch: two events of one stream have the same rank';
      END IF;
`,
);
