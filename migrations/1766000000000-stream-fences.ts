import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_BATCH_BRANCH_PROBES } from './1765500000000-append-batch-branch-probes';
import { APPEND_BATCH_SIGNATURE } from './1765600000000-append-batch-generic-plans';
import { replaceOnce } from './1765100000000-partitioned-events';

/**
 * Fencing tokens for a stream's writer: a run's log stream belongs to the node holding the run's advisory lock, and
 * a node that lost the lock's connection while it ran on (the backend terminated, a blip on that one socket, a long
 * pause) still had samples in flight. They committed after the node that took the run over had read the highest
 * index logged (or the samples logged), and it decided them again: takeover-fence e2e, 10-28 stream indices started
 * twice in 6 of 6 runs, 32 after a paused owner (SIGSTOP) resumed, 26-36 session samples in 2 of 2.
 *
 * stream_fences holds each fenced stream's current token; a writer takes the next one (EventStore.takeFence) before
 * it reads what the stream holds, and every append it makes carries it. append_batch locks the fence rows of the
 * requests that carry one (FOR SHARE, in stream order) and refuses, writing nothing, when a token is not the current
 * one: it returns a 'fenced' row for each such stream, and the event store sends the other requests again. Taking
 * a token updates the row, so it waits for appends in progress under the old one to commit, and appends after it
 * are refused. Share locks never conflict among appenders, and a token is taken in a transaction of its own that
 * locks nothing else, so no deadlock with the stream rows' locks. The table lives beside the log, not on the runs
 * row, because the check is in the same statement as the append, and the event store knows only streams.
 */
export class StreamFences1766000000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE stream_fences (stream_id text PRIMARY KEY, fence bigint NOT NULL CHECK (fence > 0))`);
    await q.query(`DROP FUNCTION ${APPEND_BATCH_SIGNATURE}`);
    await q.query(APPEND_BATCH_FENCED);
    await q.query(`ALTER FUNCTION ${APPEND_BATCH_FENCED_SIGNATURE} SET plan_cache_mode = force_generic_plan`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ${APPEND_BATCH_FENCED_SIGNATURE}`);
    await q.query(APPEND_BATCH_BRANCH_PROBES);
    await q.query(`ALTER FUNCTION ${APPEND_BATCH_SIGNATURE} SET plan_cache_mode = force_generic_plan`);
    await q.query('DROP TABLE stream_fences');
  }
}

const APPEND_BATCH_FENCED_SIGNATURE = APPEND_BATCH_SIGNATURE.replace(/\)$/, ', bigint[])');

/*
 * As APPEND_BATCH_BRANCH_PROBES, with p_fences: per stream of p_streams, the token its writer holds, or NULL (no
 * fence; the default, so callers of the fifteen arguments are unchanged). The client sends one token a stream (it
 * refuses a request whose token is lower than another of the batch's for its stream: that one was taken later) and
 * leaves unfenced requests of a fenced stream alone when the stream is refused. Checked per stream, not per request:
 * in `bench:events --fenced` (batch 100, 8 streams, one event per append, load 2.5-3.4) a look-up per request cost
 * 1.111 times the unfenced writer's database CPU per event (one run), one per stream 0.965-1.044 (three runs; 1.044
 * at 12 events per append on stream- streams). Any stale token: one row per stale stream (req = its index in p_streams, status 'fenced',
 * current_position = its current token, NULL when it has none) and nothing written. The fence rows' share locks are
 * taken in stream order (two takeovers at once cannot deadlock with two batches) and held to the commit, whichever
 * path writes the batch.
 */
const APPEND_BATCH_FENCED = replaceOnce(
  replaceOnce(
    replaceOnce(
      replaceOnce(
        APPEND_BATCH_BRANCH_PROBES,
        'p_kept_ids uuid[], p_kept_lo uuid, p_kept_hi uuid, p_stream_ids uuid[]\n)',
        'p_kept_ids uuid[], p_kept_lo uuid, p_kept_hi uuid, p_stream_ids uuid[],\n  p_fences bigint[] DEFAULT NULL\n)',
      ),
      '  v_total bigint;\n',
      '  v_total bigint;\n  v_stale bigint[];\n',
    ),
    '     OR coalesce(array_length(p_versions, 1), 0) <> n_ev THEN',
    '     OR coalesce(array_length(p_versions, 1), 0) <> n_ev\n' +
      '     OR (p_fences IS NOT NULL AND coalesce(array_length(p_fences, 1), 0) <> coalesce(array_length(p_streams, 1), 0)) THEN',
  ),
  `  IF array_remove(p_expected, NULL) = '{}' THEN
    BEGIN
`,
  `  IF array_remove(p_fences, NULL) <> '{}' THEN
    SELECT array_agg(x.s) INTO v_stale
      FROM unnest(p_streams, p_fences) WITH ORDINALITY AS x(id, t, s)
      LEFT JOIN (SELECT f.stream_id, f.fence FROM stream_fences f WHERE f.stream_id = ANY (p_streams) ORDER BY f.stream_id FOR SHARE) AS f
        ON f.stream_id = x.id
     WHERE x.t IS NOT NULL AND f.fence IS DISTINCT FROM x.t;
    IF v_stale IS NOT NULL THEN
      RETURN QUERY
        SELECT x.s::integer, 'fenced'::text, f.fence, NULL::bigint[], NULL::bigint[], NULL::uuid[], NULL::text, NULL::timestamptz
          FROM unnest(p_streams) WITH ORDINALITY AS x(id, s)
          LEFT JOIN stream_fences f ON f.stream_id = x.id
         WHERE x.s = ANY (v_stale);
      RETURN;
    END IF;
  END IF;

  IF array_remove(p_expected, NULL) = '{}' THEN
    BEGIN
`,
);
