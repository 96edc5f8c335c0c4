import { streamIds, type NewEvent } from '@ddnn/contracts';
import { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase, waitUntilReadable } from '../test/database';
import { EventStore } from './event-store';

/**
 * A production stream is read back page by page (GET /streams/:id/events, the projections' catch-up) while it
 * grows without end. bench:stream found a page of a 6.4 M-event stream taking 5.9 s: with a day partition's
 * statistics those of a small table, the plan AND-ed two bitmaps and sorted every event of the stream after the
 * checkpoint, for every page. A page must read about its own rows, whatever the stream's length and whatever the
 * statistics say: counted here by Postgres itself (rows returned by index scans and read by sequential scans on
 * the stream partitions) around each page read.
 */
describe('a page of a production stream reads about its own rows (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;
  /** One connection, so that its statistics can be flushed before they are read. */
  let single: Pool;
  let reader: EventStore;
  const STREAM = streamIds.stream('long');
  const OTHER = streamIds.stream('other');
  /** A slow stream beside the busy ones (the demo's next to a production line). */
  const SMALL = streamIds.stream('small');
  const SMALL_PER_TRANSACTION = 5;
  const TRANSACTIONS = 40;
  const PER_TRANSACTION = 500;
  const PAGE = 100;

  beforeAll(async () => {
    env = await migratedDatabase(4);
    pool = env.pool;
    store = new EventStore(pool);
    single = new Pool({ connectionString: env.db.url, max: 1 });
    reader = new EventStore(single);
    // Two streams written side by side in many transactions, and no ANALYZE: the statistics stay those of the
    // empty partitions the migrations made, as on a day partition that filled faster than autovacuum analysed it.
    const batch = (runId: string, t: number): NewEvent[] =>
      Array.from({ length: PER_TRANSACTION }, (_, i) => ev.sampleStarted(runId, t * PER_TRANSACTION + i, null));
    for (let t = 0; t < TRANSACTIONS; t++) {
      await store.appendBatch([
        { streamId: STREAM, events: batch('long', t) },
        { streamId: OTHER, events: batch('other', t) },
        { streamId: SMALL, events: Array.from({ length: SMALL_PER_TRANSACTION }, (_, i) => ev.sampleStarted('small', t * SMALL_PER_TRANSACTION + i, null)) },
      ]);
    }
    await waitUntilReadable(pool);
  }, 120_000);
  afterAll(async () => {
    await single.end();
    await env.close();
  });

  /** Rows the stream partitions' scans read (all backends; only `single` reads while this runs). */
  async function rowsRead(): Promise<number> {
    // This backend's own counts are flushed when it next goes idle; the snapshot of the views is then taken anew.
    await single.query('SELECT pg_stat_force_next_flush()');
    await single.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await single.query<{ n: string }>(
      `SELECT (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE relname LIKE 'events\\_stream%')
            + (SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables WHERE relname LIKE 'events\\_stream%') AS n`,
    );
    return Number(rows[0].n);
  }

  async function rowsReadForPageAfter(after: string | undefined, stream = STREAM): Promise<number> {
    const before = await rowsRead();
    const page = await reader.readStreamAfter(stream, { after, limit: PAGE });
    expect(page.events).toHaveLength(PAGE);
    return (await rowsRead()) - before;
  }

  /** The checkpoint after each page of 1000 read by the first test. */
  const pageCheckpoints: string[] = [];

  it('pages the whole stream in log order', async () => {
    const seen: number[] = [];
    let after: string | undefined;
    for (let more = true; more; ) {
      const page = await store.readStreamAfter(STREAM, { after, limit: 1000 });
      seen.push(...page.events.map((e) => (e.data as { sampleIndex: number }).sampleIndex));
      after = page.checkpoint;
      pageCheckpoints.push(after);
      more = page.hasMore;
    }
    expect(seen).toEqual(Array.from({ length: TRANSACTIONS * PER_TRANSACTION }, (_, i) => i));
  });

  it('reads about one page of rows from the start, the middle and near the end, before and after ANALYZE', async () => {
    const n = pageCheckpoints.length;
    expect(n).toBe((TRANSACTIONS * PER_TRANSACTION) / 1000);
    const checkpoints = [pageCheckpoints[0], pageCheckpoints[Math.floor(n / 2)], pageCheckpoints[n - 2]];
    // One index scan per partition holding the stream's events, each stopping after a page: the day partition and
    // the default one at most (the events were all written within a minute).
    const bound = 2 * (PAGE + 1);
    for (const cp of checkpoints) expect(await rowsReadForPageAfter(cp)).toBeLessThanOrEqual(bound);
    expect(await rowsReadForPageAfter(undefined, SMALL)).toBeLessThanOrEqual(bound);
    await pool.query('ANALYZE events');
    for (const cp of checkpoints) expect(await rowsReadForPageAfter(cp)).toBeLessThanOrEqual(bound);
    // The small stream's 100 events are spread over 20 of the 40 transactions, among 20,000 of the others'.
    expect(await rowsReadForPageAfter(undefined, SMALL)).toBeLessThanOrEqual(bound);
  });
});
