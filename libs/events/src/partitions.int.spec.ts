import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { streamIds, type NewEvent, type StoredEvent } from '@ddnn/contracts';
import { Client, type Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase, waitUntilReadable } from '../test/database';
import { START_CHECKPOINT } from './checkpoint';
import { exportEventsCsv } from './csv';
import { EventIdReuseError } from './errors';
import { newEventId } from './event-id';
import { EventStore } from './event-store';
import { DAY_MS, ensureStreamPartitions, listStreamPartitions, partitionOf } from './partitions';
import { applyStreamRetention } from './retention';
import { subscribe } from './subscription';

/** A stream run's log stream (STREAMS.md: `stream-<uuid>`; expires by age). */
const streamOf = (id: string) => `stream-${id}`;
const DAY0 = Date.UTC(2026, 10, 1, 12); // noon, 1 November 2026: the tests' "now"
const at = (day: number, hours = 0) => DAY0 + day * DAY_MS + hours * 3_600_000;

/** A SampleStarted made at a time: its id carries the time, as the store's ids do. */
const sampleAt = (runId: string, index: number, ms: number): NewEvent => ({ ...ev.sampleStarted(runId, index, null), eventId: newEventId(ms) });

async function csvOf(store: EventStore, streamId: string): Promise<string[]> {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _e, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  await exportEventsCsv(store, streamId, out);
  return text.trim().split('\n');
}

describe('stream partitions and retention (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(12);
    pool = env.pool;
    store = new EventStore(pool);
  });
  afterAll(() => env.close());

  const partitionOfRow = async (eventId: string) =>
    (await pool.query<{ p: string }>('SELECT tableoid::regclass::text AS p FROM events WHERE event_id = $1', [eventId])).rows[0]?.p;

  it('creates day partitions ahead, idempotently, and exactly once with several nodes at once', async () => {
    const runs = await Promise.all([0, 1, 2, 3].map(() => ensureStreamPartitions(pool, { now: new Date(at(-12)), daysAhead: 14 })));
    expect(runs.flatMap((r) => r.failed)).toEqual([]);
    const created = runs.flatMap((r) => r.created.map((p) => p.name)).sort();
    const expected = Array.from({ length: 15 }, (_, d) => partitionOf(at(-12 + d)).name).sort();
    expect(created).toEqual(expected);
    expect((await listStreamPartitions(pool)).map((p) => p.name)).toEqual(expected);
    const again = await ensureStreamPartitions(pool, { now: new Date(at(-12)), daysAhead: 14 });
    expect(again).toEqual({ created: [], moved: 0, failed: [] });
    const first = (await listStreamPartitions(pool))[0];
    expect(first).toEqual({ name: 'events_stream_p20261020', from: new Date('2026-10-20T00:00:00Z'), to: new Date('2026-10-21T00:00:00Z') });
  });

  it('files stream events by the time in their id, keeps every other stream out of them, and moves strays from the default partition', async () => {
    const s = await store.appendToStream(streamOf('f1'), [sampleAt('f1', 0, at(-3)), sampleAt('f1', 1, at(-2)), sampleAt('f1', 2, at(40))]);
    expect(await partitionOfRow(s.events[0].eventId)).toBe(partitionOf(at(-3)).name);
    expect(await partitionOfRow(s.events[1].eventId)).toBe(partitionOf(at(-2)).name);
    // No partition that far ahead yet: the default partition takes it, and the day's partition takes it over.
    expect(await partitionOfRow(s.events[2].eventId)).toBe('events_stream_default');
    const session = await store.appendToStream(streamIds.session('f1'), [sampleAt('f1', 0, at(-3))]);
    const device = await store.appendToStream(streamIds.device('cam-f1'), [{ ...ev.deviceConnected('cam-f1'), eventId: randomUUID() }]);
    expect(await partitionOfRow(session.events[0].eventId)).toBe('events_kept');
    expect(await partitionOfRow(device.events[0].eventId)).toBe('events_kept');

    const made = await ensureStreamPartitions(pool, { now: new Date(at(40)), daysAhead: 0 });
    expect(made).toEqual({ created: [partitionOf(at(40))], moved: 1, failed: [] });
    expect(await partitionOfRow(s.events[2].eventId)).toBe(partitionOf(at(40)).name);
    expect((await store.readStream(streamOf('f1'))).map((e) => [e.streamPosition, e.globalPosition])).toEqual(
      s.events.map((e) => [e.streamPosition, e.globalPosition]),
    );
    // A stream event's id must carry its time: any other uuid is refused, alone.
    await expect(store.appendToStream(streamOf('f1'), [{ ...ev.sampleStarted('f1', 3), eventId: randomUUID() }])).rejects.toThrow(/not a UUIDv7/);
    expect(await store.streamVersion(streamOf('f1'))).toBe(3);
  });

  it('keeps event ids unique and retries idempotent across partitions and across the two branches', async () => {
    const stream = streamOf('d1');
    const events = [sampleAt('d1', 0, at(-4)), sampleAt('d1', 1, at(-1)), sampleAt('d1', 2, at(0))];
    const first = await store.appendToStream(stream, events);
    // A retry (the first attempt committed, its answer was lost) days later, even with a stale expectation.
    const retry = await store.appendToStream(stream, events, { expectedVersion: 0 });
    expect(retry.duplicate).toBe(true);
    expect(retry.events.map((e) => [e.eventId, e.streamPosition, e.globalPosition])).toEqual(first.events.map((e) => [e.eventId, e.streamPosition, e.globalPosition]));
    const batchRetry = await store.appendBatch([{ streamId: stream, events: [events[1]] }]);
    expect(batchRetry[0]).toMatchObject({ ok: true, result: { duplicate: true, nextExpectedVersion: 2 } });
    // An id stored in one branch reused in the other is refused both ways, on the fast path and with an expectation.
    const sessionEvent = (await store.appendToStream(streamIds.session('d1'), [sampleAt('d1', 0, at(0))])).events[0];
    await expect(store.appendToStream(stream, [{ ...ev.sampleStarted('d1', 9), eventId: sessionEvent.eventId }])).rejects.toBeInstanceOf(EventIdReuseError);
    await expect(store.appendToStream(streamIds.session('d2'), [{ ...ev.sampleStarted('d2', 0), eventId: events[0].eventId }])).rejects.toBeInstanceOf(EventIdReuseError);
    await expect(
      store.appendToStream(streamIds.session('d2'), [{ ...ev.sampleStarted('d2', 0), eventId: events[2].eventId }], { expectedVersion: 'no_stream' }),
    ).rejects.toBeInstanceOf(EventIdReuseError);
    // Among ids of other days (the look-up covers the days between the batch's least and greatest id), in capitals.
    const spread = [sampleAt('d3', 0, at(-6)), { ...ev.sampleStarted('d3', 1), eventId: first.events[1].eventId.toUpperCase() }, sampleAt('d3', 2, at(3))];
    await expect(store.appendToStream(streamIds.session('d3'), spread)).rejects.toBeInstanceOf(EventIdReuseError);
    expect(await store.streamVersion(streamIds.session('d3'))).toBe(0);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE event_id = ANY ($1::uuid[])', [[...events.map((e) => e.eventId), sessionEvent.eventId]]);
    expect(rows[0].n).toBe(4);
    expect(await store.streamVersion(stream)).toBe(3);
    expect(await store.streamVersion(streamIds.session('d2'))).toBe(0);
  });

  it('numbers stream events itself when append_batch is given two events at one rank (no unique key on their positions)', async () => {
    const stream = streamOf('r1');
    await store.appendToStream(stream, [sampleAt('r1', 0, at(0))]);
    const ids = [newEventId(at(0)), newEventId(at(0))];
    const { rows } = await pool.query(
      `SELECT req, status FROM append_batch($1::text[], '{2}', '{1}', '{NULL}', '{1,1}', $2::uuid[], '{1,1}', E'SampleStarted\\nSampleStarted', '{1,1}', $3, E'{}\\n{}', '{}', NULL, NULL, $2::uuid[])`,
      [[stream], ids, ['{"sessionId":"r1","sampleIndex":1,"sampleId":"s1","label":null}', '{"sessionId":"r1","sampleIndex":2,"sampleId":"s2","label":null}'].join('\n')],
    );
    expect(rows).toEqual([{ req: 1, status: 'ok' }]);
    expect((await store.readStream(stream)).map((e) => [e.streamPosition, (e.data as { sampleIndex: number }).sampleIndex])).toEqual([[1, 0], [2, 1], [3, 2]]);
  });

  it('delivers events committed out of order in concurrent transactions across partitions in order, skipping none (xid8 rule)', async () => {
    // The snapshot is the server's: another database's open transaction holds readers back too (up to 25 s here).
    await waitUntilReadable(pool, 25_000);
    const head = await store.headCheckpoint();
    const seen: StoredEvent[] = [];
    const sub = await subscribe(store, { after: head, pollIntervalMs: 50, handle: async (events) => void seen.push(...events) });
    const slow = new Client({ connectionString: env.db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      // The slow writer takes the first global position (in an old day's partition), then others write to a
      // recent day's partition and to the kept branch and commit first.
      const [slowOut] = await store.appendBatch([{ streamId: streamOf('x1'), events: [sampleAt('x1', 0, at(-5))] }], slow);
      const fastStream = await store.appendToStream(streamOf('x2'), [sampleAt('x2', 0, at(0))]);
      const fastSession = await store.appendToStream(streamIds.session('x3'), [ev.sampleStarted('x3', 0)]);
      if (!slowOut.ok) throw slowOut.error;
      const slowEvent = slowOut.result.events[0];
      expect(await partitionOfRow(fastStream.events[0].eventId)).not.toBe(partitionOf(at(-5)).name);
      const during = await store.readAll({ after: head });
      expect(during.events.map((e) => e.eventId)).toEqual([]);
      await new Promise((r) => setTimeout(r, 200));
      expect(seen).toEqual([]);
      await slow.query('COMMIT');
      await waitUntilReadable(pool, 25_000);
      const expected = [slowEvent.eventId, fastStream.events[0].eventId, fastSession.events[0].eventId];
      const after = await store.readAll({ after: head });
      expect(after.events.map((e) => e.eventId)).toEqual(expected);
      const deadline = Date.now() + 25_000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen.map((e) => e.eventId)).toEqual(expected);
    } finally {
      await slow.end();
      await sub.stop();
    }
  });

  it('retention drops whole stream partitions older than the age and nothing else', async () => {
    // Old and young events of a stream run, and old events of sessions and devices (older by their ids and by
    // created_at) and a stray stream event in the default partition, old and young.
    const run = streamOf('k1');
    const stream = await store.appendToStream(run, [sampleAt('k1', 0, at(-9)), sampleAt('k1', 1, at(-6)), sampleAt('k1', 2, at(-5, -1)), sampleAt('k1', 3, at(-1)), sampleAt('k1', 4, at(0))]);
    const session = await store.appendToStream(streamIds.session('k1'), [sampleAt('k1', 0, at(-9)), ev.sessionAborted('k1')]);
    const device = await store.appendToStream(streamIds.device('cam-k1'), [{ ...ev.deviceConnected('cam-k1'), eventId: newEventId(at(-11)) }]);
    const alert = await store.appendToStream('alert-k1', [{ ...ev.deviceConnected('cam-k1'), eventId: newEventId(at(-11)) }]);
    await pool.query(`UPDATE events SET created_at = $1 WHERE stream_id NOT LIKE 'stream-%'`, [new Date(at(-11))]);
    const stray = [randomUUID(), randomUUID()];
    await pool.query(
      `INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data, created_at)
       VALUES ('stream-legacy', 1, $1, 'SampleStarted', 1, '{"sessionId":"legacy","sampleIndex":0,"sampleId":"s0","label":null}', $3),
              ('stream-legacy', 2, $2, 'SampleStarted', 1, '{"sessionId":"legacy","sampleIndex":1,"sampleId":"s1","label":null}', $4)`,
      [stray[0], stray[1], new Date(at(-8)), new Date(at(-1))],
    );
    const keptBefore = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM events_kept`)).rows[0].n;
    const sessionCsv = await csvOf(store, streamIds.session('k1'));
    const partitionsBefore = await listStreamPartitions(pool);

    const result = await applyStreamRetention(pool, { days: 5, now: new Date(at(0)) });
    // Cutoff: 27 October 12:00. Days up to the 26th end before it and go whole; the 27th does not, so its event
    // of 11:00, an hour past the age, stays with it (retention drops whole days only).
    expect(result.cutoff).toEqual(new Date(at(-5)));
    expect(result.failed).toEqual([]);
    const gone = partitionsBefore.filter((p) => p.to.getTime() <= at(-5));
    expect(result.dropped.map((p) => p.name)).toEqual(gone.map((p) => p.name));
    expect(result.dropped.map((p) => p.name)).toContain(partitionOf(at(-9)).name);
    expect(result.dropped.map((p) => p.name)).toContain(partitionOf(at(-6)).name);
    expect(result.dropped.map((p) => p.name)).not.toContain(partitionOf(at(-5, -1)).name);
    expect(result.deletedFromDefault).toBe(1);
    expect((await listStreamPartitions(pool)).map((p) => p.name)).toEqual(partitionsBefore.filter((p) => !gone.includes(p)).map((p) => p.name));

    // The stream keeps its young events, at their positions, and goes on at its next position.
    const left = await store.readStream(run);
    expect(left.map((e) => e.eventId)).toEqual(stream.events.slice(2).map((e) => e.eventId));
    expect(left.map((e) => e.streamPosition)).toEqual([3, 4, 5]);
    const pages: number[] = [];
    for await (const page of store.payloadsByType(run, 'SampleStarted')) pages.push(...page.map((p) => p.streamPosition));
    expect(pages).toEqual([3, 4, 5]);
    expect(await store.countByType(run, 'SampleStarted')).toBe(3);
    expect((await csvOf(store, run)).length).toBe(1 + 3);
    const next = await store.appendToStream(run, [sampleAt('k1', 5, at(0))]);
    expect(next.events[0].streamPosition).toBe(6);
    expect((await store.readStream('stream-legacy')).map((e) => e.eventId)).toEqual([stray[1]]);

    // Everything else is untouched.
    expect((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM events_kept`)).rows[0].n).toBe(keptBefore);
    expect((await store.readStream(streamIds.session('k1'))).map((e) => e.eventId)).toEqual(session.events.map((e) => e.eventId));
    expect((await store.readStream(streamIds.device('cam-k1'))).map((e) => e.eventId)).toEqual(device.events.map((e) => e.eventId));
    expect((await store.readStream('alert-k1')).map((e) => e.eventId)).toEqual(alert.events.map((e) => e.eventId));
    expect(await store.countByType(streamIds.session('k1'), 'SampleStarted')).toBe(1);
    expect(await csvOf(store, streamIds.session('k1'))).toEqual(sessionCsv);

    // readAll goes through the remaining partitions in order; dropped events are simply gone.
    await waitUntilReadable(pool);
    const all: StoredEvent[] = [];
    for (let after = START_CHECKPOINT; ; ) {
      const page = await store.readAll({ after, limit: 7 });
      if (!page.events.length) break;
      all.push(...page.events);
      after = page.checkpoint;
    }
    const ids = new Set(all.map((e) => e.eventId));
    for (const e of stream.events.slice(0, 2)) expect(ids.has(e.eventId)).toBe(false);
    for (const e of [...stream.events.slice(2), ...session.events, ...device.events, ...alert.events]) expect(ids.has(e.eventId)).toBe(true);
    const { rows: total } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
    expect(all.length).toBe(total[0].n);

    // Again, and on two nodes at once: nothing more goes.
    const twice = await Promise.all([applyStreamRetention(pool, { days: 5, now: new Date(at(0)) }), applyStreamRetention(pool, { days: 5, now: new Date(at(0)) })]);
    expect(twice.map((r) => [r.dropped, r.deletedFromDefault, r.failed])).toEqual([
      [[], 0, []],
      [[], 0, []],
    ]);
    await expect(applyStreamRetention(pool, { days: 0 })).rejects.toThrow(/integer >= 1/);
  });

  it('leaves a partition that stays locked past the timeout to the next run, and drops it then', async () => {
    await ensureStreamPartitions(pool, { now: new Date(at(-30)), daysAhead: 0 });
    const old = partitionOf(at(-30));
    const reader = new Client({ connectionString: env.db.url });
    await reader.connect();
    try {
      // A long read of the old partition holds its lock.
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM ${old.name}`);
      const blocked = await applyStreamRetention(pool, { days: 20, now: new Date(at(0)), lockTimeoutMs: 100 });
      expect(blocked.dropped).toEqual([]);
      expect(blocked.failed.map((f) => [f.partition.name, f.error])).toEqual([[old.name, expect.stringMatching(/lock timeout/)]]);
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
    const later = await applyStreamRetention(pool, { days: 20, now: new Date(at(0)) });
    expect(later.dropped.map((p) => p.name)).toEqual([old.name]);
  });
});
