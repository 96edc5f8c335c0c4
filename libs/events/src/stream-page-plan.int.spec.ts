import { streamIds, type NewEvent } from '@ddnn/contracts';
import { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase, waitUntilReadable } from '../test/database';
import { EventStore } from './event-store';

/** A fresh database with a store on it, and a reader on one connection whose reads Postgres counts (rowsRead). */
async function countedDatabase() {
  const env = await migratedDatabase(4);
  const single = new Pool({ connectionString: env.db.url, max: 1 });
  // An idle connection cut while the database goes away at the end reports an error event: not the suite's failure.
  single.on('error', () => undefined);
  return {
    pool: env.pool,
    store: new EventStore(env.pool),
    reader: new EventStore(single),
    /** Rows the stream partitions' scans have read (all backends; only the reader reads while this runs). */
    async rowsRead(): Promise<number> {
      // The reader's backend flushes its counts when it next goes idle; the snapshot of the views is then taken anew.
      await single.query('SELECT pg_stat_force_next_flush()');
      await single.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await single.query<{ n: string }>(
        `SELECT (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE relname LIKE 'events\\_stream%')
              + (SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_user_tables WHERE relname LIKE 'events\\_stream%') AS n`,
      );
      return Number(rows[0].n);
    },
    async close(): Promise<void> {
      await single.end();
      await env.close();
    },
  };
}

/**
 * A production stream is read back page by page (GET /streams/:id/events, the projections' catch-up) while it
 * grows without end. bench:stream found a page of a 6.4 M-event stream taking 5.9 s: with a day partition's
 * statistics those of a small table, the plan AND-ed two bitmaps and sorted every event of the stream after the
 * checkpoint, for every page. A page must read about its own rows, whatever the stream's length and whatever the
 * statistics say: counted here by Postgres itself (rows returned by index scans and read by sequential scans on
 * the stream partitions) around each page read.
 */
describe('a page of a production stream reads about its own rows (Postgres)', () => {
  let db: Awaited<ReturnType<typeof countedDatabase>>;
  const STREAM = streamIds.stream('long');
  const OTHER = streamIds.stream('other');
  /** A slow stream beside the busy ones (the demo's next to a production line). */
  const SMALL = streamIds.stream('small');
  const SMALL_PER_TRANSACTION = 5;
  const TRANSACTIONS = 40;
  const PER_TRANSACTION = 500;
  const PAGE = 100;

  beforeAll(async () => {
    db = await countedDatabase();
    // Two streams written side by side in many transactions, and no ANALYZE: the statistics stay those of the
    // empty partitions the migrations made, as on a day partition that filled faster than autovacuum analysed it.
    const batch = (runId: string, t: number): NewEvent[] =>
      Array.from({ length: PER_TRANSACTION }, (_, i) => ev.sampleStarted(runId, t * PER_TRANSACTION + i, null));
    for (let t = 0; t < TRANSACTIONS; t++) {
      await db.store.appendBatch([
        { streamId: STREAM, events: batch('long', t) },
        { streamId: OTHER, events: batch('other', t) },
        { streamId: SMALL, events: Array.from({ length: SMALL_PER_TRANSACTION }, (_, i) => ev.sampleStarted('small', t * SMALL_PER_TRANSACTION + i, null)) },
      ]);
    }
    await waitUntilReadable(db.pool);
  }, 120_000);
  afterAll(() => db.close());

  async function rowsReadForPageAfter(after: string | undefined, stream = STREAM): Promise<number> {
    const before = await db.rowsRead();
    const page = await db.reader.readStreamAfter(stream, { after, limit: PAGE });
    expect(page.events).toHaveLength(PAGE);
    return (await db.rowsRead()) - before;
  }

  /** The checkpoint after each page of 1000 read by the first test. */
  const pageCheckpoints: string[] = [];

  it('pages the whole stream in log order', async () => {
    const seen: number[] = [];
    let after: string | undefined;
    for (let more = true; more; ) {
      const page = await db.store.readStreamAfter(STREAM, { after, limit: 1000 });
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
    await db.pool.query('ANALYZE events');
    for (const cp of checkpoints) expect(await rowsReadForPageAfter(cp)).toBeLessThanOrEqual(bound);
    // The small stream's 100 events are spread over 20 of the 40 transactions, among 20,000 of the others'.
    expect(await rowsReadForPageAfter(undefined, SMALL)).toBeLessThanOrEqual(bound);
  });
});

/**
 * The dashboard's live view of a stream opens on a time window: its first page reads from `from` with no checkpoint.
 * With no index on time, that walked the stream's log from its start to the window, weeks of a camera fleet for
 * the last quarter hour; it now starts a minute before the window, found by a binary search over sample indices.
 */
describe('the first page of a time window of a production stream (Postgres)', () => {
  let db: Awaited<ReturnType<typeof countedDatabase>>;
  const STREAM = streamIds.stream('weeks');
  const SAMPLES = 8000;
  const PER_TRANSACTION = 20;
  /** Sample i was logged at BASE + i seconds (set below: appends take the database's clock). */
  const BASE = Date.parse('2026-11-01T00:00:00Z');
  const at = (i: number) => new Date(BASE + i * 1000);

  beforeAll(async () => {
    db = await countedDatabase();
    for (let t = 0; t < SAMPLES / PER_TRANSACTION; t++) {
      const samples = Array.from({ length: PER_TRANSACTION }, (_, i) => t * PER_TRANSACTION + i);
      await db.store.appendBatch([
        { streamId: STREAM, events: samples.flatMap((i) => [ev.sampleStarted('weeks', i, null), ev.sampleStarted('weeks-shadow', i, null)]) },
        { streamId: streamIds.stream('busy'), events: samples.map((i) => ev.sampleStarted('busy', i, null)) },
      ]);
    }
    // Test setup only: the log's times as if the stream had run for SAMPLES seconds.
    await db.pool.query(`UPDATE events SET created_at = $2::timestamptz + ((data->>'sampleIndex')::int * interval '1 second') WHERE stream_id = $1`, [STREAM, at(0)]);
    // The update's old row versions would be counted as rows read below.
    await db.pool.query('VACUUM events');
    await waitUntilReadable(db.pool);
  }, 120_000);
  afterAll(() => db.close());

  /** The window's events as the table holds them, in log order. */
  async function expected(from: Date, to?: Date): Promise<string[]> {
    const { rows } = await db.pool.query<{ id: string }>(
      `SELECT event_id::text AS id FROM events WHERE stream_id = $1 AND created_at >= $2 AND ($3::timestamptz IS NULL OR created_at < $3)
        ORDER BY transaction_id, global_position`,
      [STREAM, from, to ?? null],
    );
    return rows.map((r) => r.id);
  }

  async function readWindow(from: Date, to?: Date): Promise<{ ids: string[]; firstPageRows: number }> {
    const ids: string[] = [];
    let after: string | undefined;
    let firstPageRows = -1;
    for (let more = true; more; ) {
      const before = firstPageRows < 0 ? await db.rowsRead() : 0;
      const page = await db.reader.readStreamAfter(STREAM, { after, limit: 100, from, ...(to ? { to } : {}) });
      if (firstPageRows < 0) firstPageRows = (await db.rowsRead()) - before;
      ids.push(...page.events.map((e) => e.eventId));
      after = page.checkpoint;
      more = page.hasMore;
    }
    return { ids, firstPageRows };
  }

  it('reads exactly the window, its first page starting about a minute before it', async () => {
    const late = await readWindow(at(SAMPLES - 900));
    expect(late.ids).toEqual(await expected(at(SAMPLES - 900)));
    expect(late.ids).toHaveLength(900 * 2);
    // A minute of samples before the window (2 events each) and a page, plus the search's probes (~13 of them):
    // not the 14,000 events before the window.
    expect(late.firstPageRows).toBeLessThan(400);
    const middle = await readWindow(at(3000), at(3300));
    expect(middle.ids).toEqual(await expected(at(3000), at(3300)));
    expect(middle.ids).toHaveLength(300 * 2);
    expect(middle.firstPageRows).toBeLessThan(400);
  });

  it('reads from the start for a window that begins before the stream, and nothing for one after it', async () => {
    const all = await readWindow(new Date(BASE - 3_600_000));
    expect(all.ids).toHaveLength(SAMPLES * 2);
    expect(all.ids).toEqual(await expected(new Date(BASE - 3_600_000)));
    expect((await readWindow(at(SAMPLES + 3600))).ids).toEqual([]);
  });
});
