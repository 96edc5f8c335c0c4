import { streamIds, type NewEvent } from '@ddnn/contracts';
import type { Pool } from 'pg';
import { migratedDatabase } from '../../test/database';
import { simulatedSession } from '../../test/fixtures';
import { BatchingWriter } from '../batching-writer';
import { EventStore } from '../event-store';
import { applyStreamRetention } from '../retention';
import { applyRollup, metricsRollupLag, metricsRollupSubscription, readRollup, rebuildMetricsRollup } from './metrics-rollup';

/** A label posted for a stream's sample after its decision. */
function sampleLabelled(runId: string, sampleIndex: number, label: number, prediction: number): NewEvent {
  return { type: 'SampleLabelled', data: { sessionId: runId, sampleIndex, label, labelledAt: Date.now(), decision: { tier: 'local', prediction } } };
}
/** The fixture's prediction for sample i. */
const predictionOf = (i: number) => (i % 4 === 1 ? (i + 1) % 3 : i % 3);

describe('metrics rollup (Postgres)', () => {
  let env: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    env = await migratedDatabase(10);
    pool = env.pool;
    store = new EventStore(pool);
  });
  afterAll(() => env.close());

  const snapshot = async () => ({
    cells: (await pool.query('SELECT * FROM metric_rollups ORDER BY resolution, bucket, run_id, scope, key')).rows,
    samples: (await pool.query('SELECT run_id, sample_index, state FROM metric_rollup_samples ORDER BY 1, 2')).rows,
  });
  const total = async (runId: string, scope: 'run' | 'device' | 'link', key: string, resolution = 60_000) => {
    const cells = await readRollup(pool, {
      resolution,
      scope,
      key,
      runId,
      from: 0,
      to: Date.now() + 3_600_000,
      fields: ['samples', 'decided', 'exits', 'labelled', 'correct', 'answered', 'missed', 'missedBy', 'bytes', 'messages', 'agreeN', 'agree', 'confidence', 'entropy', 'latency'],
    });
    return cells.reduce((acc, c) => {
      for (const [k, v] of Object.entries(c.cell)) (acc as Record<string, unknown>)[k] = typeof v === 'number' ? ((acc as Record<string, number>)[k] ?? 0) + v : v;
      return acc;
    }, {} as Record<string, unknown>);
  };

  it('counts what sessions and a stream did, labels posted later included, and a rebuild equals the live rollup', async () => {
    // Small batches split samples across transactions: device answers and their decision land in different batches.
    const live = metricsRollupSubscription(store, { batchSize: 7, pollIntervalMs: 50 });
    await live.start();
    const writer = new BatchingWriter(store, { maxBatchEvents: 50, maxDelayMs: 2 });
    const sessions = ['r1', 'r2'].map((id, k) => ({ id, ...simulatedSession(id, 3 + k, 30) }));
    // A stream: the same events without labels, labels posted afterwards for some samples.
    const stream = simulatedSession('st1', 3, 20);
    const unlabel = (events: NewEvent[]) =>
      events.map((e) => (e.type === 'SampleStarted' || e.type === 'ExitDecided' ? ({ ...e, data: { ...e.data, label: null } } as NewEvent) : e));
    try {
      await Promise.all(
        sessions.map(async (s) => {
          await writer.append(streamIds.session(s.id), [s.start]);
          for (const events of s.perSample) await writer.append(streamIds.session(s.id), events);
          await writer.append(streamIds.session(s.id), [s.end]);
        }),
      );
      for (const events of stream.perSample) await store.appendToStream(streamIds.stream('st1'), unlabel(events));
      // Labels for samples 0..9: predictions are right unless i % 4 === 1 (the fixture's rule).
      const labels = Array.from({ length: 10 }, (_, i) => sampleLabelled('st1', i, i % 3, predictionOf(i)));
      await store.appendToStream(streamIds.stream('st1'), labels);
      // A second label for a counted sample does not count twice.
      await store.appendToStream(streamIds.stream('st1'), [sampleLabelled('st1', 0, 2, predictionOf(0))]);
      await live.catchUp();
      expect(await metricsRollupLag(store)).toBe(0);

      for (const s of sessions) {
        const t = await total(s.id, 'run', '');
        expect(t.samples).toBe(s.truth.samples);
        expect(t.decided).toBe(s.truth.answered);
        expect(t.exits).toEqual(Object.fromEntries(Object.entries(s.truth.exits).filter(([, n]) => n > 0)));
        expect(t.labelled).toBe(s.truth.labelled);
        expect(t.correct).toBe(s.truth.correct);
        expect(t.bytes).toBe(Object.values(s.truth.bytesByLink).reduce((a, b) => a + b, 0));
        const answered = Object.values(s.truth.answeredByDevice).reduce((a, b) => a + b, 0);
        expect(t.answered).toBe(answered);
        expect(t.missed).toBe(Object.values(s.truth.missedByDevice).reduce((a, b) => a + b, 0));
        // Every answering device's vote is compared with the fused decision once.
        expect(t.agreeN).toBe(answered);
        const dev = await total(s.id, 'device', `${s.id}-dev0`);
        expect(dev.answered).toBe(s.truth.answeredByDevice[`${s.id}-dev0`]);
        expect(dev.missed).toBe(s.truth.missedByDevice[`${s.id}-dev0`]);
        expect(dev.missedBy).toEqual({ timeout: s.truth.missedByDevice[`${s.id}-dev0`] });
        const link = await total(s.id, 'link', `${s.id}-dev1->local`);
        expect(link.bytes).toBe(s.truth.bytesByLink[`${s.id}-dev1>local`]);
        // The hourly rollup holds the same totals.
        expect(await total(s.id, 'run', '', 3_600_000)).toEqual(t);
      }
      const st = await total('st1', 'run', '');
      expect(st.samples).toBe(20);
      expect(st.labelled).toBe(10);
      expect(st.correct).toBe(Array.from({ length: 10 }, (_, i) => i).filter((i) => i % 4 !== 1).length);
      // Unlabelled decided samples wait for their label; labelled ones are forgotten.
      const waiting = await pool.query(`SELECT sample_index FROM metric_rollup_samples WHERE run_id = 'st1' ORDER BY 1`);
      expect(waiting.rows.map((r: { sample_index: number }) => r.sample_index)).toEqual(Array.from({ length: 10 }, (_, i) => i + 10));
      expect((await pool.query(`SELECT count(*)::int AS n FROM metric_rollup_samples WHERE run_id <> 'st1'`)).rows[0].n).toBe(0);

      const liveResult = await snapshot();
      await live.stop();
      const rebuilt = await rebuildMetricsRollup(store);
      expect(rebuilt.events).toBe(Number((await pool.query('SELECT count(*) AS n FROM events')).rows[0].n));
      expect(await snapshot()).toEqual(liveResult);
    } finally {
      await writer.close();
      await live.stop();
    }
  });

  it('sums every run per bucket for a fleet-wide read, and reads a device across runs', async () => {
    const all = await readRollup(pool, { resolution: 3_600_000, scope: 'run', key: '', from: 0, to: Date.now() + 3_600_000, fields: ['samples'] });
    expect(all.reduce((s, c) => s + (c.cell.samples ?? 0), 0)).toBe(30 + 30 + 20);
    const links = await readRollup(pool, { resolution: 60_000, scope: 'link', key: 'r1-dev0->', keyPrefix: true, from: 0, to: Date.now() + 60_000, fields: ['bytes'] });
    expect(links.reduce((s, c) => s + (c.cell.bytes ?? 0), 0)).toBeGreaterThan(0);
  });

  it('forgets with the stream retention what it kept of expired stream samples for their labels, and nothing else', async () => {
    // After the first test: stream st1's samples 10-19 wait for labels. A young stream's samples wait too, and an
    // old state of a session (a batch that split a sample, say) is not the stream retention's to drop.
    const young = simulatedSession('st2', 2, 5);
    for (const events of young.perSample) await store.appendToStream(streamIds.stream('st2'), events.map((e) => (e.type === 'ExitDecided' ? ({ ...e, data: { ...e.data, label: null } } as NewEvent) : e)));
    await applyRollup(await store.readStream(streamIds.stream('st2')), pool);
    await pool.query(`INSERT INTO metric_rollup_samples (run_id, sample_index, state, updated_at) VALUES ('r1', 999, '{}', now() - interval '30 days')`);
    await pool.query(`UPDATE metric_rollup_samples SET updated_at = now() - interval '10 days' WHERE run_id = 'st1'`);
    const waiting = async () => (await pool.query(`SELECT run_id, count(*)::int AS n FROM metric_rollup_samples GROUP BY 1 ORDER BY 1`)).rows;
    expect(await waiting()).toEqual([
      { run_id: 'r1', n: 1 },
      { run_id: 'st1', n: 10 },
      { run_id: 'st2', n: 5 },
    ]);

    const result = await applyStreamRetention(pool, { days: 5 });
    expect(result.expiredSampleStates).toBe(10);
    expect(await waiting()).toEqual([
      { run_id: 'r1', n: 1 },
      { run_id: 'st2', n: 5 },
    ]);
    expect((await applyStreamRetention(pool, { days: 5 })).expiredSampleStates).toBe(0);
  });
});
