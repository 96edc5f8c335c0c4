import { streamIds, type StoredEvent } from '@ddnn/contracts';
import type { Pool } from 'pg';
import { ev } from '../test/fixtures';
import { migratedDatabase } from '../test/database';
import { START_CHECKPOINT } from './checkpoint';
import { EventStore } from './event-store';
import { storedCheckpoint, subscribe, Subscription, subscriptionLag } from './subscription';

describe('Subscription (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(10);
    pool = env.pool;
    store = new EventStore(pool);
    await pool.query('CREATE TABLE handled (subscriber text NOT NULL, event_id uuid NOT NULL, PRIMARY KEY (subscriber, event_id))');
  });
  afterAll(() => env.close());

  /** A handler that records events in the subscription's transaction, so effects are exactly once. */
  const recorder = (subscriber: string, seen: StoredEvent[]) => async (events: StoredEvent[], tx: unknown) => {
    await (tx as Pool).query('INSERT INTO handled SELECT $1, unnest($2::uuid[])', [subscriber, events.map((e) => e.eventId)]);
    seen.push(...events);
  };
  const handledCount = async (subscriber: string) =>
    Number((await pool.query('SELECT count(*) AS n FROM handled WHERE subscriber = $1', [subscriber])).rows[0].n);

  const appendSamples = (session: string, from: number, n: number) =>
    store.appendToStream(
      streamIds.session(session),
      Array.from({ length: n }, (_, i) => ev.sampleStarted(session, from + i)),
    );

  it('catches up, then follows live appends woken by NOTIFY (polling effectively off)', async () => {
    await appendSamples('live', 0, 30);
    const seen: StoredEvent[] = [];
    const sub = await subscribe(store, { name: 'live', handle: recorder('live', seen), batchSize: 7, pollIntervalMs: 600_000 });
    try {
      await sub.catchUp();
      expect(seen).toHaveLength(30);
      const started = Date.now();
      await appendSamples('live', 30, 5);
      await appendSamples('live2', 0, 5);
      await sub.catchUp();
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(seen).toHaveLength(40);
      const all = (await store.readAll({ limit: 10_000 })).events;
      expect(seen.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
      expect(await handledCount('live')).toBe(40);
      expect(await storedCheckpoint(store, 'live')).toBe(all[all.length - 1].checkpoint);
      expect(await sub.lag()).toBe(0);
      expect(await subscriptionLag(store, 'live')).toBe(0);
    } finally {
      await sub.stop();
    }
  });

  it('opens no transaction on a wake-up that finds nothing readable after its checkpoint', async () => {
    await appendSamples('idle', 0, 3);
    const seen: StoredEvent[] = [];
    const sub = new Subscription(store, { name: 'idle', handle: recorder('idle', seen), listen: false });
    await sub.catchUp();
    const handled = await handledCount('idle');
    // A batch checks a client out for its transaction (pool.query checks one out too, with a callback).
    const connect = jest.spyOn(pool, 'connect');
    const transactions = () => connect.mock.calls.filter((args: unknown[]) => args.length === 0).length;
    try {
      for (let i = 0; i < 5; i++) expect(await sub.step()).toBe(0);
      expect(transactions()).toBe(0);
      await appendSamples('idle', 3, 2);
      await sub.catchUp();
      expect(transactions()).toBe(1);
      expect(await handledCount('idle')).toBe(handled + 2);
    } finally {
      connect.mockRestore();
    }
  });

  it('is woken by an append made inside a caller transaction once that transaction commits (polling off)', async () => {
    const head = await store.lastCommittedCheckpoint();
    const seen: StoredEvent[] = [];
    const sub = await subscribe(store, { after: head, handle: async (events) => void seen.push(...events), pollIntervalMs: 600_000 });
    const tx = await pool.connect();
    try {
      await sub.catchUp();
      await tx.query('BEGIN');
      const [outcome] = await store.appendBatch([{ streamId: streamIds.session('in-tx'), events: [ev.sampleStarted('in-tx', 0)] }], tx);
      expect(outcome.ok).toBe(true);
      await tx.query('COMMIT');
      await sub.catchUp();
      expect(seen.map((e) => e.streamId)).toEqual([streamIds.session('in-tx')]);
    } finally {
      tx.release();
      await sub.stop();
    }
  });

  it('resumes a restarted subscriber from its stored checkpoint, and reports its lag meanwhile', async () => {
    const seen: StoredEvent[] = [];
    const first = await subscribe(store, { name: 'resume', handle: recorder('resume', seen) });
    await first.catchUp();
    const before = seen.length;
    await first.stop();

    await appendSamples('resume', 0, 12);
    expect(await subscriptionLag(store, 'resume')).toBe(12);
    const seenAfter: StoredEvent[] = [];
    const second = await subscribe(store, { name: 'resume', handle: recorder('resume', seenAfter), batchSize: 5 });
    try {
      await second.catchUp();
      expect(seenAfter.map((e) => (e.data as { sampleIndex: number }).sampleIndex)).toEqual([...Array(12).keys()]);
      expect(await handledCount('resume')).toBe(before + 12);
      expect(await subscriptionLag(store, 'resume')).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it('retries a failed batch without moving the checkpoint, so its effects happen exactly once', async () => {
    await appendSamples('retry', 0, 4);
    let failures = 0;
    const seen: StoredEvent[] = [];
    const errors: unknown[] = [];
    const record = recorder('retry', seen);
    const sub = await subscribe(store, {
      name: 'retry',
      pollIntervalMs: 20,
      onError: (e) => errors.push(e),
      handle: async (events, tx) => {
        await record(events, tx);
        if (failures < 2) {
          failures++;
          throw new Error('handler failed');
        }
      },
    });
    try {
      await sub.catchUp();
      expect(errors.map((e) => (e as Error).message)).toEqual(['handler failed', 'handler failed']);
      const total = Number((await pool.query('SELECT count(*) AS n FROM events')).rows[0].n);
      expect(await handledCount('retry')).toBe(total);
    } finally {
      await sub.stop();
    }
  });

  it('delivers each event once across two running instances of one subscriber', async () => {
    const a: StoredEvent[] = [];
    const b: StoredEvent[] = [];
    const one = await subscribe(store, { name: 'pair', handle: recorder('pair', a), batchSize: 3, pollIntervalMs: 30 });
    const two = await subscribe(store, { name: 'pair', handle: recorder('pair', b), batchSize: 3, pollIntervalMs: 30 });
    try {
      await Promise.all([0, 1, 2, 3].map((k) => appendSamples(`pair-${k}`, 0, 10)));
      await one.catchUp();
      await two.catchUp();
      const total = Number((await pool.query('SELECT count(*) AS n FROM events')).rows[0].n);
      // The primary key of `handled` would have refused a second delivery inside the transaction.
      expect(await handledCount('pair')).toBe(total);
      expect(a.length + b.length).toBe(total);
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });

  it('polls when LISTEN is off, and an unnamed subscription starts after the given checkpoint', async () => {
    const head = await store.headCheckpoint();
    const seen: StoredEvent[] = [];
    const sub = new Subscription(store, { after: head, listen: false, pollIntervalMs: 25, handle: async (events) => void seen.push(...events) });
    await sub.start();
    try {
      await appendSamples('poll', 0, 3);
      await sub.catchUp();
      expect(seen.map((e) => e.streamId)).toEqual(Array(3).fill(streamIds.session('poll')));
      expect(await storedCheckpoint(store, 'poll')).toBeNull();
    } finally {
      await sub.stop();
    }
  });

  it('refuses bad names and checkpoints', () => {
    expect(() => new Subscription(store, { name: 'no spaces', handle: async () => undefined })).toThrow(/subscription name 'no spaces'/);
    expect(() => new Subscription(store, { after: 'x', handle: async () => undefined })).toThrow(/invalid checkpoint 'x'/);
    expect(START_CHECKPOINT).toBe('0:0');
  });
});
