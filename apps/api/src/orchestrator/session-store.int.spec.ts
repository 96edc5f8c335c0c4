import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { migrations } from '@ddnn/migrations';
import { streamIds, type CreateSessionRequest, type NewEvent } from '@ddnn/contracts';
import { FencedAppendError, type BatchingWriter } from '@ddnn/events';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import type { AppConfig } from '../config/config';
import { Database } from '../database/database';
import { SessionLock } from './advisory-lock';
import { outageProofSink } from './append-retry';
import { SessionEventLog } from './session-event-log';
import { SessionStore } from './session-store';

const spec: CreateSessionRequest = {
  modelId: 'default',
  dataset: 'synth',
  split: 'test',
  topology: { devices: [{ deviceId: 'd0', view: 0 }] },
  policy: { kind: 'entropy', thresholds: { local: 0.8 } },
  mode: 'research',
  deadlineMs: 1000,
};

/** A sample's events, as a run appends them at once. */
const sampleEvents = (runId: string, sampleIndex: number): NewEvent[] => [
  { type: 'SampleStarted', data: { sessionId: runId, sampleIndex, sampleId: `s${sampleIndex}`, label: null } },
  { type: 'ExitDecided', data: { sessionId: runId, sampleIndex, tier: 'local', eta: 0.1, threshold: 0.8, policy: 'entropy', exited: true, prediction: 1, label: null, shadow: false } },
];

/** The error pg gives when the server's connection ends under a query: the database is unavailable. */
const connectionLost = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });

describe('sessions in Postgres: table, advisory-lock ownership, log state (real Postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: SessionStore;
  let log: SessionEventLog;
  let database: Database;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource({ type: 'postgres', url: db.url, migrations }).initialize();
    await ds.runMigrations({ transaction: 'each' });
    store = new SessionStore(ds);
    database = new Database(ds, { DDNN_DB_OUTAGE_LIMIT_MS: 5000 } as AppConfig);
    log = new SessionEventLog(database);
  });
  afterAll(async () => {
    await database.beforeApplicationShutdown();
    await ds.destroy();
    await db.drop();
  });

  it('records, lists by status and finishes sessions', async () => {
    const a = (await store.create(spec))!;
    const b = (await store.create({ ...spec, mode: 'production' }))!;
    await store.markRunning(b, 'node-1', 171);
    expect((await store.list({ status: 'pending', limit: 10, offset: 0 })).items.map((s) => s.id)).toEqual([a]);
    const running = await store.get(b);
    expect(running).toMatchObject({ status: 'running', owner: 'node-1', sampleCount: 171, mode: 'production', summary: null, stats: null });
    expect(await store.unfinishedIds()).toEqual(expect.arrayContaining([a, b]));
    await store.finish(b, 'completed', 171, undefined, { samples: 171, events: 10, durationMs: 1, pipelineMs: 1, serverModelMs: 0, deviceModelMs: 0, transportMs: 0, loggingMs: 0 });
    expect(await store.get(b)).toMatchObject({ status: 'completed', owner: null, samplesDone: 171, stats: { samples: 171 } });
    expect(await store.unfinishedIds()).not.toContain(b);
  });

  it('keeps one demo session, whoever asks', async () => {
    const results = await Promise.all([store.create(spec, { demo: true }), store.create(spec, { demo: true }), store.create(spec, { demo: true })]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await store.demoExists()).toBe(true);
  });

  it('stops a pending session at once and flags a running one for its owner', async () => {
    const pending = (await store.create(spec))!;
    expect(await store.requestStop(pending)).toBe('stopped');
    const running = (await store.create(spec))!;
    await store.markRunning(running, 'node-1', 10);
    expect(await store.stopRequested(running)).toBe(false);
    expect(await store.requestStop(running)).toBe('running');
    expect(await store.stopRequested(running)).toBe(true);
    expect(await store.requestStop('00000000-0000-0000-0000-000000000000')).toBeNull();
  });

  it('lets one node own a session; the lock frees when the owner releases it or its connection dies', async () => {
    const id = (await store.create(spec))!;
    const first = await SessionLock.tryAcquire(db.url, id);
    expect(first).not.toBeNull();
    expect(await SessionLock.tryAcquire(db.url, id)).toBeNull();
    await first!.release();
    const second = await SessionLock.tryAcquire(db.url, id);
    expect(second).not.toBeNull();
    expect(await store.stopRequested(id, second!.connection)).toBe(false);
    await store.requestStop(id);
    expect(await store.stopRequested(id, second!.connection)).toBe(true);
    // The owning node dies: its connection is terminated, and with it the lock.
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`ddnn-session-${id}`]);
    await admin.end();
    expect(await second!.stillHeld()).toBe(false);
    // A run's stop poll reads its row on the lock's connection: with the connection gone it gets no answer.
    await expect(store.stopRequested(id, second!.connection)).rejects.toThrow();
    const third = await SessionLock.tryAcquire(db.url, id);
    expect(third).not.toBeNull();
    await third!.release();
    await second!.release();
  });

  it("tells the owner's watch of a stop request at once, and of the lock's loss when its connection dies", async () => {
    const [id, other] = await Promise.all([store.create(spec), store.create(spec)]);
    if (!id || !other) throw new Error('no sessions');
    const lock = await SessionLock.tryAcquire(db.url, id);
    if (!lock) throw new Error('no lock');
    const heard: string[] = [];
    const cancel = await lock.watchStop(
      () => heard.push('stop'),
      () => heard.push('lost'),
    );
    const until = async (what: string) => {
      for (const t0 = Date.now(); !heard.includes(what); await new Promise((r) => setTimeout(r, 10))) {
        if (Date.now() - t0 > 5000) throw new Error(`no ${what} within 5 s (heard ${heard.join(', ') || 'nothing'})`);
      }
    };
    await store.markRunning(id, 'node-1', 10);
    await store.markRunning(other, 'node-1', 10);
    // Another run's stop is not this one's.
    await store.requestStop(other);
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toEqual([]);
    await store.requestStop(id);
    await until('stop');
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`ddnn-session-${id}`]);
    await admin.end();
    await until('lost');
    expect(heard).toEqual(['stop', 'lost']);
    cancel();
    await lock.release();
  });

  it('reads what a previous owner logged and folds the summary incrementally', async () => {
    const id = (await store.create(spec))!;
    const sink = log.sink(id);
    expect(await log.logged(id)).toEqual({ started: false, samples: new Set() });
    const sample = (i: number, exited: boolean): NewEvent[] => [
      { type: 'SampleStarted', data: { sessionId: id, sampleIndex: i, sampleId: `s${i}`, label: 1 } },
      { type: 'BytesTransferred', data: { sessionId: id, sampleIndex: i, from: 'd0', to: 'local', kind: 'scores', bytes: 12, shadow: false } },
      {
        type: 'ExitDecided',
        data: { sessionId: id, sampleIndex: i, tier: 'local', eta: 0.1, threshold: 0.8, policy: 'p', exited, prediction: 1, label: 1, shadow: false },
      },
    ];
    // Session reads follow the xid8 rule, so another transaction running on the server can hold back
    // what is visible for a moment (never lose it): wait until the fold has caught up, then compare exactly.
    const caughtUp = async (samplesStarted: number) => {
      for (let i = 0; i < 300; i++) {
        const s = await log.summary(id);
        if (s.samplesStarted >= samplesStarted) return s;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`session summary did not reach ${samplesStarted} started samples`);
    };
    await Promise.all([sink.append(sample(0, true)), sink.append(sample(1, true))]);
    const early = await caughtUp(2);
    expect(early).toMatchObject({ sessionId: id, samplesStarted: 2, samplesDecided: 2, correct: 2, bytes: { total: 24 } });
    await sink.append(sample(2, false));
    expect(await log.logged(id)).toEqual({ started: false, samples: new Set([0, 1, 2]) });
    expect(await log.store.countByType(streamIds.session(id), 'SampleStarted')).toBe(3);
    const later = await caughtUp(3);
    expect(later).toMatchObject({ samplesStarted: 3, samplesDecided: 2, bytes: { total: 36, perSample: 18 } });
    const page = await log.page(id, early.checkpoint ?? undefined, 100);
    expect(page.events.map((e) => e.type)).toEqual(['SampleStarted', 'BytesTransferred', 'ExitDecided']);
    expect(page.hasMore).toBe(false);
  });

  /**
   * A writer whose first append commits and then loses its answer (the connection dropped after the commit), and
   * which lets another node take the run over (a new fence) before the sink's retry arrives.
   */
  function writerLosingTheFirstAnswer(stream: string, committed: boolean): BatchingWriter {
    let calls = 0;
    return {
      append: async (streamId: string, events: NewEvent[], options: { fence?: number }) => {
        calls++;
        if (calls === 1) {
          if (committed) await database.writer.append(streamId, events, options);
          await database.store.takeFence(stream);
          throw connectionLost();
        }
        return database.writer.append(streamId, events, options);
      },
    } as unknown as BatchingWriter;
  }

  it('a sink whose commit answer was lost and whose retry met another node’s fence counts the sample logged when the lost attempt had committed, and dropped when it had not', async () => {
    const warnings: string[] = [];
    for (const [run, committed] of [
      ['r-committed', true],
      ['r-lost', false],
    ] as const) {
      const stream = streamIds.stream(run);
      const fence = await database.store.takeFence(stream);
      const sink = outageProofSink({ writer: writerLosingTheFirstAnswer(stream, committed), store: database.store, outageLimitMs: 5000 }, stream, (m) => warnings.push(m), fence);
      const append = sink.append(sampleEvents(run, 0));
      if (committed) await expect(append).resolves.toBeUndefined();
      else await expect(append).rejects.toBeInstanceOf(FencedAppendError);
      // Whatever the answer, the log holds the sample once or not at all.
      expect(await database.store.countByType(stream, 'SampleStarted')).toBe(committed ? 1 : 0);
    }
    expect(warnings.filter((w) => /logged once, not dropped/.test(w))).toHaveLength(1);
  });

  it('a sink still refuses a first attempt made after the takeover: nothing was ever logged', async () => {
    const stream = streamIds.stream('r-late');
    const fence = await database.store.takeFence(stream);
    await database.store.takeFence(stream);
    const sink = outageProofSink(database, stream, () => undefined, fence);
    await expect(sink.append(sampleEvents('r-late', 0))).rejects.toBeInstanceOf(FencedAppendError);
    expect(await database.store.countByType(stream, 'SampleStarted')).toBe(0);
  });

  it("folds an ended run's summary through every commit made before the read, waiting out an older transaction", async () => {
    const id = 'ended-fold';
    const stream = streamIds.session(id);
    await database.store.appendToStream(stream, sampleEvents(id, 0));
    // A transaction that began before the next commit and is still open: readers of the log cannot see that commit yet.
    const older = new Client({ connectionString: db.url });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      await database.store.appendToStream(stream, sampleEvents(id, 1));
      expect((await log.summary(id)).samplesStarted).toBe(1);
      let answered = false;
      const ended = log.summary(id, true).finally(() => (answered = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answered).toBe(false);
      await older.query('ROLLBACK');
      expect((await ended).samplesStarted).toBe(2);
    } finally {
      await older.end();
    }
  });
});
