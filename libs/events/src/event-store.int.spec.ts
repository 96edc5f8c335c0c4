import { randomUUID } from 'node:crypto';
import { streamIds, type StoredEvent } from '@ddnn/contracts';
import { Client, type Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase, waitUntilReadable } from '../test/database';
import { compareCheckpoints, START_CHECKPOINT } from './checkpoint';
import { ConcurrencyError, EventIdReuseError, UpcastError } from './errors';
import { EventStore } from './event-store';
import type { LogTail } from './log-tail';
import { Upcasters } from './upcasting';

describe('EventStore (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(12);
    pool = env.pool;
    store = new EventStore(pool);
  });
  afterAll(() => env.close());

  async function readEverything(s = store): Promise<StoredEvent[]> {
    await waitUntilReadable(pool);
    const all: StoredEvent[] = [];
    let after = START_CHECKPOINT;
    for (;;) {
      const page = await s.readAll({ after, limit: 500 });
      if (page.events.length === 0) return all;
      all.push(...page.events);
      after = page.checkpoint;
    }
  }

  it('appends to a new stream and reads it back in order with positions, checkpoints and metadata', async () => {
    const stream = streamIds.session('a1');
    const result = await store.appendToStream(
      stream,
      [ev.sampleStarted('a1', 0), { ...ev.sampleStarted('a1', 1), metadata: { node: 'api-1', correlationId: 'c1' } }],
      { expectedVersion: 'no_stream' },
    );
    expect(result.nextExpectedVersion).toBe(2);
    expect(result.duplicate).toBe(false);
    expect(result.events.map((e) => e.streamPosition)).toEqual([1, 2]);
    const read = await store.readStream(stream);
    expect(read).toEqual(result.events);
    expect(read[1].metadata).toEqual({ node: 'api-1', correlationId: 'c1' });
    expect(read[0].data).toEqual({ sessionId: 'a1', sampleIndex: 0, sampleId: 's0', label: 0 });
    expect(compareCheckpoints(read[0].checkpoint, read[1].checkpoint)).toBeLessThan(0);
    expect(await store.streamVersion(stream)).toBe(2);
    expect(await store.readStream(stream, { from: 2 })).toEqual([read[1]]);
  });

  it('refuses an append whose expected version is stale with a typed ConcurrencyError', async () => {
    const stream = streamIds.session('c1');
    await store.appendToStream(stream, [ev.sampleStarted('c1', 0)], { expectedVersion: 0 });
    const stale = store.appendToStream(stream, [ev.sampleStarted('c1', 1)], { expectedVersion: 0 });
    await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(store.appendToStream(stream, [ev.sampleStarted('c1', 1)], { expectedVersion: 0 })).rejects.toMatchObject({
      streamId: stream,
      expected: 0,
      actual: 1,
    });
    await expect(store.appendToStream(stream, [ev.sampleStarted('c1', 1)], { expectedVersion: 'no_stream' })).rejects.toThrow(
      /expected version no_stream, but it is at 1/,
    );
    await expect(
      store.appendToStream(streamIds.session('never'), [ev.sampleStarted('never', 0)], { expectedVersion: 'stream_exists' }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    const ok = await store.appendToStream(stream, [ev.sampleStarted('c1', 1)], { expectedVersion: 1 });
    expect(ok.nextExpectedVersion).toBe(2);
    expect((await store.readStream(stream)).map((e) => e.data)).toEqual([ev.sampleStarted('c1', 0).data, ev.sampleStarted('c1', 1).data]);
  });

  it('makes a retried append with the same event ids idempotent, even with a now-stale expected version', async () => {
    const stream = streamIds.session('r1');
    const events = [0, 1, 2].map((i) => ({ ...ev.sampleStarted('r1', i), eventId: randomUUID() }));
    const first = await store.appendToStream(stream, events, { expectedVersion: 'no_stream' });
    const retry = await store.appendToStream(stream, events, { expectedVersion: 'no_stream' });
    expect(retry.duplicate).toBe(true);
    expect(retry.events).toEqual(first.events);
    expect(retry.nextExpectedVersion).toBe(3);
    expect(await store.readStream(stream)).toHaveLength(3);

    // Concurrent retries of one append: exactly one write, both callers get the stored result.
    const again = [0, 1].map((i) => ({ ...ev.sampleStarted('r2', i), eventId: randomUUID() }));
    const both = await Promise.all([
      store.appendToStream(streamIds.session('r2'), again),
      store.appendToStream(streamIds.session('r2'), again),
    ]);
    expect(both.map((b) => b.duplicate).sort()).toEqual([false, true]);
    expect(both[0].events).toEqual(both[1].events);
    expect(await store.readStream(streamIds.session('r2'))).toHaveLength(2);

    // Reusing some ids with new ones is not a retry.
    await expect(store.appendToStream(stream, [events[0], ev.sampleStarted('r1', 9)])).rejects.toBeInstanceOf(EventIdReuseError);
    // Nor is reusing an id in another stream.
    await expect(store.appendToStream(streamIds.session('r3'), [events[1]])).rejects.toBeInstanceOf(EventIdReuseError);
  });

  it('appends to several streams in one batch; a refused request leaves the others written', async () => {
    const a = streamIds.session('m1');
    const b = streamIds.device('m1-dev');
    await store.appendToStream(a, [ev.sampleStarted('m1', 0)]);
    const outcomes = await store.appendBatch([
      { streamId: a, events: [ev.sampleStarted('m1', 1)], expectedVersion: 1 },
      { streamId: b, events: [ev.deviceConnected('m1-dev')], expectedVersion: 'no_stream' },
      { streamId: a, events: [ev.sampleStarted('m1', 2), ev.sampleStarted('m1', 3)], expectedVersion: 2 },
      { streamId: b, events: [ev.deviceConnected('m1-dev')], expectedVersion: 5 },
      { streamId: a, events: [] },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, false, true]);
    const refused = outcomes[3];
    expect(!refused.ok && refused.error).toMatchObject({ name: 'ConcurrencyError', actual: 1, expected: 5 });
    const ok = outcomes.filter((o) => o.ok).map((o) => (o.ok ? o.result.nextExpectedVersion : -1));
    expect(ok).toEqual([2, 1, 4, 4]);
    expect((await store.readStream(a)).map((e) => e.streamPosition)).toEqual([1, 2, 3, 4]);
    expect(await store.readStream(b)).toHaveLength(1);
  });

  it('reports a request it cannot write in its outcome only, on both paths, and creates no stream for it', async () => {
    const a = streamIds.session('bad1');
    const bad = { streamId: streamIds.session('bad1-new'), events: [ev.sessionAborted('bad1', 'nul \u0000')] };
    // Without expectations the batch goes the fast path; with them, append_events' path.
    for (const [first, second] of [[undefined, undefined], [2, 3]]) {
      const outcomes = await store.appendBatch([
        { streamId: a, events: [ev.sampleStarted('bad1', 0)], expectedVersion: first },
        bad,
        { streamId: a, events: [ev.sampleStarted('bad1', 1)], expectedVersion: second },
      ]);
      expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
      expect(!outcomes[1].ok && outcomes[1].error.message).toMatch(/holds \\u0000, which PostgreSQL's jsonb cannot store/);
      const positions = outcomes.flatMap((o) => (o.ok ? o.result.events.map((e) => e.streamPosition) : []));
      expect(positions).toEqual(first === undefined ? [1, 2] : [3, 4]);
    }
    expect((await store.readStream(a)).map((e) => e.streamPosition)).toEqual([1, 2, 3, 4]);
    expect(await store.streamVersion(bad.streamId)).toBe(0);
    const { rows } = await pool.query('SELECT 1 FROM streams WHERE stream_id = $1', [bad.streamId]);
    expect(rows).toHaveLength(0);
    await expect(store.appendToStream(bad.streamId, bad.events)).rejects.toThrow(/holds \\u0000/);
  });

  it('positions a batch of requests without expectations per stream in request order, and retries part of one', async () => {
    const a = streamIds.session('any1');
    const b = streamIds.session('any2');
    const e = Array.from({ length: 7 }, (_, i) => ({ ...ev.sampleStarted('any', i), eventId: randomUUID() }));
    const outcomes = await store.appendBatch([
      { streamId: a, events: [e[0]] },
      { streamId: b, events: [e[1], e[2]] },
      { streamId: a, events: [] },
      { streamId: a, events: [e[3], e[4]] },
      { streamId: b, events: [e[5]] },
    ]);
    const results = outcomes.map((o) => (o.ok ? o.result : null));
    expect(results.map((r) => r?.nextExpectedVersion)).toEqual([1, 2, 1, 3, 3]);
    const stored = results.flatMap((r) => r?.events ?? []);
    expect(stored.map((x) => x.eventId)).toEqual([e[0], e[1], e[2], e[3], e[4], e[5]].map((x) => x.eventId));
    const globals = stored.map((x) => BigInt(x.globalPosition));
    expect(globals).toEqual([...globals].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect((await store.readStream(a)).map((x) => [x.eventId, x.streamPosition])).toEqual([[e[0].eventId, 1], [e[3].eventId, 2], [e[4].eventId, 3]]);
    expect((await store.readStream(b)).map((x) => [x.eventId, x.streamPosition])).toEqual([[e[1].eventId, 1], [e[2].eventId, 2], [e[5].eventId, 3]]);

    // A batch retrying one of those requests next to a new one: the retry is a duplicate, the new one is written.
    const [retry, fresh] = await store.appendBatch([
      { streamId: b, events: [e[1], e[2]] },
      { streamId: a, events: [e[6]] },
    ]);
    expect(retry.ok && retry.result.duplicate).toBe(true);
    expect(retry.ok && retry.result.events).toEqual(results[1]?.events);
    expect(fresh.ok && fresh.result.events.map((x) => x.streamPosition)).toEqual([4]);
    expect(await store.readStream(b)).toHaveLength(3);
  });

  it('loses, duplicates and skips nothing with many writers in parallel on the same and on different streams', async () => {
    const before = (await readEverything()).length;
    const writers = 16;
    const perWriter = 15;
    const shared = streamIds.session('p-shared');
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          const own = streamIds.session(`p-${w}`);
          await store.appendBatch([
            { streamId: shared, events: [ev.sampleStarted('p-shared', w * 1000 + i + 1)] },
            { streamId: own, events: [ev.sampleStarted(`p-${w}`, i), ev.sampleStarted(`p-${w}`, 100 + i)] },
          ]);
          // Mix single-stream appends with expected versions in, retrying on conflicts like a real writer.
          for (;;) {
            const v = await store.streamVersion(shared);
            try {
              await store.appendToStream(shared, [ev.sampleStarted('p-shared', -(w * 1000 + i + 1))], { expectedVersion: v });
              break;
            } catch (e) {
              if (!(e instanceof ConcurrencyError)) throw e;
            }
          }
        }
      }),
    );
    const sharedEvents = await store.readStream(shared);
    expect(sharedEvents.map((e) => e.streamPosition)).toEqual(Array.from({ length: 2 * writers * perWriter }, (_, i) => i + 1));
    const indexes = sharedEvents.map((e) => (e.data as { sampleIndex: number }).sampleIndex).sort((x, y) => x - y);
    const expected = Array.from({ length: writers }, (_, w) => Array.from({ length: perWriter }, (_, i) => [w * 1000 + i + 1, -(w * 1000 + i + 1)]))
      .flat(2)
      .sort((x, y) => x - y);
    expect(indexes).toEqual(expected);
    for (let w = 0; w < writers; w++) {
      const own = await store.readStream(streamIds.session(`p-${w}`));
      expect(own.map((e) => e.streamPosition)).toEqual(Array.from({ length: 2 * perWriter }, (_, i) => i + 1));
    }

    const all = await readEverything();
    expect(all.length - before).toBe(writers * perWriter * 4);
    expect(new Set(all.map((e) => e.eventId)).size).toBe(all.length);
    for (let i = 1; i < all.length; i++) expect(compareCheckpoints(all[i - 1].checkpoint, all[i].checkpoint)).toBeLessThan(0);
    // Same result when read in small pages, and every stored row is returned exactly once.
    await waitUntilReadable(pool);
    const paged: StoredEvent[] = [];
    for (let after = START_CHECKPOINT; ; ) {
      const page = await store.readAll({ after, limit: 7 });
      if (!page.events.length) break;
      paged.push(...page.events);
      after = page.checkpoint;
    }
    expect(paged.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
    expect(Number(rows[0].n)).toBe(all.length);
  });

  it('never skips an event whose transaction committed after a later one (the xid8 snapshot rule)', async () => {
    const head = await store.headCheckpoint();
    const slow = new Client({ connectionString: env.db.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      // The slow writer takes its global position first...
      const slowStore = new EventStore(pool);
      const [slowOutcome] = await slowStore.appendBatch([{ streamId: streamIds.session('late'), events: [ev.sampleStarted('late', 0)] }], slow);
      expect(slowOutcome.ok).toBe(true);
      // ...a fast writer takes a later one and commits first.
      const fast = await store.appendToStream(streamIds.session('early'), [ev.sampleStarted('early', 0)]);
      const slowPos = slowOutcome.ok ? BigInt(slowOutcome.result.events[0].globalPosition) : 0n;
      expect(BigInt(fast.events[0].globalPosition)).toBeGreaterThan(slowPos);

      // A reader now sees the fast event is committed, but must not return it yet: that would move its
      // checkpoint past the slow event's position and skip it forever.
      const { rows } = await pool.query('SELECT 1 FROM events WHERE event_id = $1', [fast.events[0].eventId]);
      expect(rows).toHaveLength(1);
      const during = await store.readAll({ after: head });
      expect(during.events.map((e) => e.eventId)).not.toContain(fast.events[0].eventId);
      expect(during.checkpoint).toBe(during.events.length ? during.events[during.events.length - 1].checkpoint : head);

      await slow.query('COMMIT');
      const afterCommit = await store.readAll({ after: during.checkpoint });
      const ids = afterCommit.events.map((e) => e.eventId);
      const slowId = slowOutcome.ok ? slowOutcome.result.events[0].eventId : '';
      expect(ids).toEqual([slowId, fast.events[0].eventId]);
      // A naive reader resuming by global position after the fast event would have skipped the slow one.
      expect(BigInt(afterCommit.events[0].globalPosition)).toBeLessThan(BigInt(afterCommit.events[1].globalPosition));
    } finally {
      await slow.end();
    }
  });

  it('serves a reader its own process\'s commits from what it sent, equal to a read, and reads other writers\' events whole', async () => {
    const fresh = new EventStore(pool);
    const other = new EventStore(pool);
    const head = await fresh.headCheckpoint();
    await fresh.readAll({ after: head }); // the reader's window starts at the head: what this store commits is staged
    const mine = await fresh.appendBatch([
      { streamId: streamIds.session('own-1'), events: [ev.sampleStarted('own-1', 0), { ...ev.sampleStarted('own-1', 1), metadata: { node: 'api-1' } }] },
      { streamId: streamIds.session('own-2'), events: [ev.sampleStarted('own-2', 0)] },
    ]);
    const theirs = await other.appendToStream(streamIds.session('foreign'), [ev.sampleStarted('foreign', 0)]);
    await fresh.appendToStream(streamIds.session('own-1'), [ev.sampleStarted('own-1', 2)]);
    await waitUntilReadable(pool);
    const staged = (fresh as unknown as { tail: LogTail }).tail;
    expect(staged.knownPositions()).not.toBeNull();
    const served = await fresh.readAll({ after: head });
    expect(staged.knownPositions()).toBeNull();
    const read = await new EventStore(pool).readAll({ after: head });
    expect(served.events).toHaveLength(5);
    expect(served).toEqual(read);
    expect(served.events.map((e) => e.eventId)).toContain(theirs.events[0].eventId);
    // Equal to the read, not the sender's objects (the tail hands them to every reader).
    const sent = mine[0].ok ? mine[0].result.events[0] : null;
    expect(served.events[0]).toEqual(sent);
    expect(served.events[0].data).not.toBe(sent?.data);
  });

  it('upcasts events stored at an old schema version when reading', async () => {
    const stream = streamIds.session('old');
    await pool.query(
      `INSERT INTO streams (stream_id, stream_position) VALUES ($1, 1);
       INSERT INTO events (stream_id, stream_position, event_id, type, schema_version, data)
       VALUES ('${stream}', 1, '${randomUUID()}', 'SessionAborted', 1, '{"sessionId": "old", "why": "power cut"}')`.replace('$1', `'${stream}'`),
    );
    // Version 2 of SessionAborted renamed `why` to `reason` and added `samplesDone`.
    const v2 = new EventStore(pool, {
      upcasters: new Upcasters(
        [
          {
            type: 'SessionAborted',
            fromVersion: 1,
            upcast: (d) => {
              const { why, ...rest } = d as { why: string; sessionId: string };
              return { ...rest, reason: why, samplesDone: 0 };
            },
          },
        ],
        { SessionAborted: 2 },
      ),
    });
    const [read] = await v2.readStream(stream);
    expect(read.data).toEqual({ sessionId: 'old', reason: 'power cut', samplesDone: 0 });
    expect(read.schemaVersion).toBe(2);
    // New appends are written at the current version and read back unchanged.
    await v2.appendToStream(stream, [ev.sessionAborted('old', 'again')]);
    const { rows } = await pool.query(`SELECT schema_version FROM events WHERE stream_id = $1 ORDER BY stream_position`, [stream]);
    expect(rows.map((r) => r.schema_version)).toEqual([1, 2]);
    expect((await v2.readStream(stream))[1].data).toEqual(ev.sessionAborted('old', 'again').data);
    // The stock catalogue (SessionAborted at version 1) has no way to read a version it does not know.
    await pool.query(`UPDATE events SET schema_version = 2 WHERE stream_id = $1`, [stream]);
    await expect(store.readStream(stream)).rejects.toBeInstanceOf(UpcastError);
    await pool.query(`DELETE FROM events WHERE stream_id = $1`, [stream]);
  });

  it('reads one session by type and pages a session after a checkpoint', async () => {
    const s = 'q1';
    const stream = streamIds.session(s);
    for (let i = 0; i < 5; i++) {
      await store.appendToStream(stream, [ev.sampleStarted(s, i), ev.sessionAborted(s, `r${i}`)]);
    }
    const aborted = await store.readSessionEventsByType(s, 'SessionAborted');
    expect(aborted.map((e) => e.data.reason)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(await store.readSessionEventsByType(s, 'SampleStarted', { from: 7, limit: 2 })).toHaveLength(2);

    const pages: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.readSessionEvents(s, { after, limit: 4 });
      pages.push(page.events.map((e) => e.type));
      after = page.checkpoint;
      if (!page.hasMore) break;
    }
    expect(pages.map((p) => p.length)).toEqual([4, 4, 2]);
    expect((await store.readSessionEvents(s, { after })).events).toEqual([]);
    await expect(store.readSessionEvents(s, { after: 'nope' })).rejects.toThrow(/invalid checkpoint 'nope'/);
  });

  it('append_batch writes a batch without expectations as one row, and refuses ranks or counts that would leave a gap', async () => {
    const a = streamIds.session('ab1');
    await store.appendToStream(a, [ev.sampleStarted('ab1', 0)]);
    const call = (counts: string, ranks: string, ids = [randomUUID(), randomUUID()].sort()) =>
      pool.query(
        `SELECT req, status, stream_positions::text AS bases, array_length(global_positions, 1) AS n
           FROM append_batch($1::text[], $2::integer[], '{1}', '{NULL}', '{1,1}', $3::uuid[], $4::integer[], E'SampleStarted\\nSampleStarted', '{1,1}', $5, E'{}\\n{}', $3::uuid[], $6::uuid, $7::uuid, '{}')`,
        [[a], counts, ids, ranks, ['{"sessionId":"ab1","sampleIndex":1}', '{"sessionId":"ab1","sampleIndex":2}'].join('\n'), ids[0], ids[1]],
      );
    // Counts adding up to more than the events would reserve positions nobody fills.
    await expect(call('{3}', '{1,2}')).rejects.toThrow(/counts add up to 3, not to the 2 events/);
    // A rank outside 1..count leaves the position empty.
    await expect(call('{2}', '{1,3}')).rejects.toThrow(/stream_position/);
    // Two events at one rank: the taken position sends the batch to append_events, which numbers them itself.
    const { rows: dup } = await call('{2}', '{1,1}');
    expect(dup.map((r) => [r.req, r.status])).toEqual([[1, 'ok']]);
    expect((await store.readStream(a)).map((e) => [e.streamPosition, (e.data as { sampleIndex: number }).sampleIndex])).toEqual([[1, 0], [2, 1], [3, 2]]);
    const { rows } = await call('{2}', '{1,2}');
    expect(rows).toEqual([{ req: 0, status: 'ok', bases: '{3}', n: 2 }]);
    expect(await store.streamVersion(a)).toBe(5);
  });

  it('rejects bad input with errors naming the problem', async () => {
    await expect(store.appendToStream('', [ev.sampleStarted('x', 0)])).rejects.toThrow(/streamId must be a non-empty string/);
    await expect(store.appendToStream('session-x', [{ ...ev.sampleStarted('x', 0), eventId: 'abc' }])).rejects.toThrow(/eventId 'abc'/);
    await expect(
      store.appendToStream('session-x', [{ type: 'NoSuchEvent', data: {} } as never]),
    ).rejects.toThrow(/unknown event type 'NoSuchEvent'/);
    await expect(store.appendToStream('session-x', [ev.sampleStarted('x', 0)], { expectedVersion: -3 })).rejects.toThrow(/invalid expectedVersion -3/);
    await expect(store.readAll({ limit: 0 })).rejects.toThrow(/limit must be an integer/);
  });
});
