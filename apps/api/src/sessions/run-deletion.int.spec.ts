import { randomUUID } from 'node:crypto';
import { streamIds, type AlertRuleView, type AlertView, type MetricName, type MetricSubject, type NewEvent, type RunKind, type SessionStatus, type SessionView } from '@ddnn/contracts';
import { DAY_MS, ensureStreamPartitions, metricsRollupLag, newEventId, projectionsLag, subscriptionLag } from '@ddnn/events';
import { waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';
import { Database } from '../database/database';
import { AlertEvaluator } from '../monitoring/alerts/alert-evaluator';
import { METRIC_READER, type MetricReader } from '../monitoring/alerts/metric-reader';
import { CLUSTER_TOTALS_SUBSCRIPTION } from '../monitoring/prometheus/cluster-totals.runner';
import { SessionLock } from '../orchestrator/advisory-lock';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { RunDeletionRepository } from './run-deletion.repository';
import { RunDeletionService } from './run-deletion.service';

const ADMIN = 'test-operator-token-0123456789';

jest.setTimeout(120_000);

/** A decided sample as the engine logs it, its events made at `at` (a stream's land in that day's partition). */
function sample(runId: string, i: number, at: number): NewEvent[] {
  const base = { sessionId: runId, sampleIndex: i };
  return [
    { type: 'SampleStarted', eventId: newEventId(at), data: { ...base, sampleId: `s${i}`, label: i % 2 } },
    {
      type: 'SectionsEvaluated',
      eventId: newEventId(at),
      data: { ...base, sections: [{ tier: 'device', node: 'd0', view: 0, probabilities: [0.6, 0.4], entropy: 0.97, latencyMs: 1, shadow: false }] },
    },
    { type: 'ExitDecided', eventId: newEventId(at), data: { ...base, tier: 'local', eta: 0.4, threshold: 0.5, policy: 'entropy', exited: true, prediction: i % 2, label: i % 2, shadow: false } },
  ] as NewEvent[];
}

describe('DELETE /api/sessions/:id and /api/streams/:id: an ended run, its log and everything derived from it (real Postgres)', () => {
  let api: TestApi;
  let db: Database;

  beforeAll(async () => {
    // Alert rounds only when a test asks for one.
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_ALERT_EVAL_INTERVAL_MS: '3600000' });
    db = api.app.get(Database);
  });
  afterAll(() => api?.close());

  /** A run's row (and name) as the engine and the operator left it, and its log: a decided sample at each of the given times. */
  async function seedRun(kind: RunKind, status: SessionStatus, times: number[], id = randomUUID()): Promise<string> {
    const spec = { modelId: 'm1', topology: { devices: [{ deviceId: 'd0', view: 0 }] }, policy: { kind: 'entropy', thresholds: { local: 0.5 } }, mode: 'research', deadlineMs: 1000 };
    await api.sql(
      `INSERT INTO sessions (id, kind, status, spec, model_id, dataset, split, mode) VALUES ($1, $2, $3, $4, 'm1', $5, $6, 'research')`,
      [id, kind, status, JSON.stringify(spec), kind === 'session' ? 'synth' : null, kind === 'session' ? 'test' : null],
    );
    await api.sql(`INSERT INTO session_runs (session_id, name, tags) VALUES ($1, $2, '{t1}')`, [id, `run ${id.slice(0, 4)}`]);
    const stream = streamIds.run(kind, id);
    if (kind === 'stream') await db.store.takeFence(stream);
    await db.store.appendToStream(stream, times.flatMap((at, i) => sample(id, i, at)));
    return id;
  }

  const tables = async (): Promise<string[]> =>
    (await api.sql<{ t: string }>(`SELECT c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`)).map(
      (r) => r.t,
    );
  /** Rows of every table, in all and those that name the run anywhere (any column, JSON included). */
  async function rowsNaming(id: string): Promise<{ all: Record<string, number>; naming: Record<string, number> }> {
    const all: Record<string, number> = {};
    const naming: Record<string, number> = {};
    for (const t of await tables()) {
      const [r] = await api.sql<{ all: string; naming: string }>(`SELECT count(*) AS all, count(*) FILTER (WHERE x::text LIKE $1) AS naming FROM "${t}" x`, [`%${id}%`]);
      all[t] = Number(r.all);
      if (Number(r.naming)) naming[t] = Number(r.naming);
    }
    return { all, naming };
  }
  /** Every subscriber has folded the whole log (what a deletion's RunDeleted drops included). */
  const settled = () =>
    waitFor(
      'the subscribers to reach the head of the log',
      async () => (await projectionsLag(db.store)) + (await metricsRollupLag(db.store)) + (await subscriptionLag(db.store, CLUSTER_TOTALS_SUBSCRIPTION)) === 0,
      30_000,
      50,
    );

  it('deletes an ended session with its rows in every table, leaves other runs alone, and a retry succeeds without a second record', async () => {
    const now = Date.now();
    const run = await seedRun('session', 'completed', [now, now + 1, now + 2]);
    const other = await seedRun('session', 'completed', [now, now + 1]);
    await waitFor('the run folded into its summary and rollup', async () => {
      const n = (await rowsNaming(run)).naming;
      return n.session_summaries === 1 && n.metric_rollups > 0;
    }, 30_000, 100);
    await settled();
    const before = await rowsNaming(run);
    const otherBefore = (await rowsNaming(other)).naming;
    for (const t of ['events_kept', 'streams', 'sessions', 'session_runs', 'session_summaries', 'metric_rollups', 'device_run_counts']) expect(before.naming[t]).toBeGreaterThan(0);

    expect((await call(api, 'DELETE', `/sessions/${run}`, ADMIN)).status).toBe(204);
    await settled();
    const after = await rowsNaming(run);
    // Only the record of the deletion names it now.
    expect(after.naming).toEqual({ events_kept: 1 });
    const [recorded] = await api.sql<{ data: unknown; stream_id: string }>(`SELECT stream_id, data FROM events WHERE type = 'RunDeleted'`);
    expect(recorded).toEqual({ stream_id: 'runs', data: { runId: run, kind: 'session', status: 'completed', modelId: 'm1', name: `run ${run.slice(0, 4)}`, events: 9 } });
    // Every table lost exactly the run's rows and gained the record (and the `runs` stream's row).
    const expected = Object.fromEntries(Object.entries(before.all).map(([t, n]) => [t, n - (before.naming[t] ?? 0) + (t === 'events_kept' || t === 'streams' ? 1 : 0)]));
    expect(after.all).toEqual(expected);
    expect((await rowsNaming(other)).naming).toEqual(otherBefore);

    expect((await call(api, 'GET', `/sessions/${run}`, ADMIN)).status).toBe(404);
    // A retry (its first answer lost): done already, nothing recorded again; in upper case too.
    expect((await call(api, 'DELETE', `/sessions/${run}`, ADMIN)).status).toBe(204);
    expect((await call(api, 'DELETE', `/sessions/${run.toUpperCase()}`, ADMIN)).status).toBe(204);
    expect(await api.sql(`SELECT 1 FROM events WHERE type = 'RunDeleted'`)).toHaveLength(1);
    // It was a session, not a stream.
    expect((await call(api, 'DELETE', `/streams/${run}`, ADMIN)).status).toBe(404);
  });

  it('deletes a stopped stream whose events are in several day partitions', async () => {
    const now = Date.now();
    await ensureStreamPartitions(db.pool, { now: new Date(now - 2 * DAY_MS), daysAhead: 2 });
    const times = [now - 2 * DAY_MS, now - DAY_MS, now];
    const run = await seedRun('stream', 'stopped', times);
    const other = await seedRun('stream', 'failed', times);
    const partitions = async (id: string) =>
      (await api.sql<{ t: string }>(`SELECT DISTINCT tableoid::regclass::text AS t FROM events WHERE stream_id = $1 ORDER BY 1`, [streamIds.stream(id)])).map((r) => r.t);
    expect(await partitions(run)).toHaveLength(3);
    await waitFor('the stream folded into its summary', async () => (await rowsNaming(run)).naming.session_summaries === 1, 30_000, 100);
    await settled();
    const otherBefore = (await rowsNaming(other)).naming;
    expect((await rowsNaming(run)).naming.stream_fences).toBe(1);

    // A stream is not a session.
    expect((await call(api, 'DELETE', `/sessions/${run}`, ADMIN)).status).toBe(404);
    expect((await call(api, 'DELETE', `/streams/${run}`, ADMIN)).status).toBe(204);
    await settled();
    expect(await partitions(run)).toEqual([]);
    expect((await rowsNaming(run)).naming).toEqual({ events_kept: 1 });
    expect((await rowsNaming(other)).naming).toEqual(otherBefore);
    expect((await call(api, 'GET', `/streams/${run}`, ADMIN)).status).toBe(404);
  });

  it('resolves an open alert about the run as subject-gone once it is deleted (the alert engine evaluates running runs only)', async () => {
    const id = randomUUID();
    const node = await SessionLock.tryAcquire(api.db.url, id);
    if (!node) throw new Error(`the lock of ${id} is taken`);
    try {
      await seedRun('stream', 'running', [Date.now()], id);
      // The rule's metric as a fake reader answers it: far below the threshold while the run runs.
      const reader = api.app.get<MetricReader>(METRIC_READER, { strict: false });
      reader.latest = async (metric: MetricName, subject: MetricSubject) => (metric === 'exit_rate_local' && subject.runId === id ? 0.1 : null);
      const rule = await call<AlertRuleView>(api, 'POST', '/alert-rules', ADMIN, {
        name: 'few local exits',
        metric: 'exit_rate_local',
        scope: { kind: 'run', runId: id },
        condition: { comparator: '<', threshold: 0.5 },
        forMs: 0,
        severity: 'minor',
      });
      expect(rule.status).toBe(201);
      const evaluate = () => api.app.get(AlertEvaluator, { strict: false }).evaluateNow();
      await evaluate();
      const alerts = async () => (await call<{ items: AlertView[] }>(api, 'GET', `/alerts?ruleId=${rule.body.id}`, ADMIN)).body.items;
      expect((await alerts()).map((a) => a.state)).toEqual(['firing']);

      // The node stops the stream and lets go of it; the operator deletes it before the next round. (This node's
      // scheduler, which saw the run running, may take its lock for a moment to look at it: 409, try again.)
      await api.sql(`UPDATE sessions SET status = 'stopped' WHERE id = $1`, [id]);
      await node.release();
      await waitFor('the deletion', async () => (await call(api, 'DELETE', `/streams/${id}`, ADMIN)).status === 204, 10_000, 50);
      await evaluate();
      expect(await alerts()).toEqual([expect.objectContaining({ state: 'resolved', resolvedReason: 'subject-gone' })]);
    } finally {
      await node.release();
    }
  });

  it('refuses a queued or running run (409: stop it first), and one a node still holds; 404 for an unknown id', async () => {
    const held: SessionLock[] = [];
    /** Holds the run's lock as its node would. */
    const own = async (id: string): Promise<SessionLock> => {
      const lock = await SessionLock.tryAcquire(api.db.url, id);
      if (!lock) throw new Error(`the lock of ${id} is taken`);
      held.push(lock);
      return lock;
    };
    try {
      for (const [kind, status] of [
        ['session', 'pending'],
        ['session', 'running'],
        ['stream', 'running'],
      ] as const) {
        // A node owns it: the test's lock, taken first, keeps this node's scheduler from taking it up.
        const id = randomUUID();
        await own(id);
        await seedRun(kind, status, [Date.now()], id);
        const res = await call<{ message: string }>(api, 'DELETE', `/${kind}s/${id}`, ADMIN);
        expect(res.status).toBe(409);
        expect(res.body.message).toContain(`is ${status}: stop it first`);
        expect((await rowsNaming(id)).naming.sessions).toBe(1);
      }
      // Ended, but its node has not let go of it yet (it still holds the run's lock).
      const closing = randomUUID();
      const node = await own(closing);
      await seedRun('session', 'completed', [Date.now()], closing);
      expect((await call(api, 'DELETE', `/sessions/${closing}`, ADMIN)).status).toBe(409);
      // The transaction checks it too (a node that takes the lock after the service's look): nothing is deleted.
      const repo = api.app.get(RunDeletionRepository);
      const found = await repo.find(closing);
      if (!found) throw new Error('the run was not found');
      expect(await repo.delete({ ...found, status: 'completed' })).toEqual({ kind: 'owned' });
      expect((await rowsNaming(closing)).naming).toMatchObject({ sessions: 1, session_runs: 1, streams: 1 });
      await node.release();
      held.splice(held.indexOf(node), 1);
      expect((await call(api, 'DELETE', `/sessions/${closing}`, ADMIN)).status).toBe(204);
      // A second deletion that found the row before the first one's commit finds it gone, and records nothing.
      expect(await repo.delete({ ...found, status: 'completed' })).toEqual({ kind: 'gone' });
      expect(await api.sql(`SELECT 1 FROM events WHERE type = 'RunDeleted' AND data->>'runId' = $1`, [closing])).toHaveLength(1);
    } finally {
      for (const l of held) await l.release();
    }
    expect((await call(api, 'DELETE', `/sessions/${randomUUID()}`, ADMIN)).status).toBe(404);
    expect((await call(api, 'DELETE', `/streams/${randomUUID()}`, ADMIN)).status).toBe(404);
    expect((await call(api, 'DELETE', '/sessions/not-a-uuid', ADMIN)).status).toBe(400);
    expect((await call(api, 'DELETE', `/sessions/${randomUUID()}`)).status).toBe(401);
  });

  it('answers 202 for a deletion that outlasts DDNN_RUN_DELETION_WAIT_MS and finishes it in the background', async () => {
    const config = api.app.get<AppConfig>(APP_CONFIG, { strict: false });
    const wait = config.DDNN_RUN_DELETION_WAIT_MS;
    config.DDNN_RUN_DELETION_WAIT_MS = 0;
    try {
      const now = Date.now();
      // More events than a chunk of the trim: most of the log goes ahead of the last transaction.
      const run = await seedRun('stream', 'stopped', Array.from({ length: 2000 }, (_, i) => now + i));
      expect((await call(api, 'DELETE', `/streams/${run}`, ADMIN)).status).toBe(202);
      await waitFor('the deletion to finish', async () => (await call(api, 'GET', `/streams/${run}`, ADMIN)).status === 404, 30_000, 50);
      const recorded = await api.sql<{ events: number }>(`SELECT (data->>'events')::int AS events FROM events WHERE type = 'RunDeleted' AND data->>'runId' = $1`, [run]);
      expect(recorded).toEqual([{ events: 6000 }]);
      expect(await api.sql(`SELECT 1 FROM events WHERE stream_id = $1`, [streamIds.stream(run)])).toHaveLength(0);
      expect((await call(api, 'DELETE', `/streams/${run}`, ADMIN)).status).toBe(204);
    } finally {
      config.DDNN_RUN_DELETION_WAIT_MS = wait;
    }
  });

  it('answers 202 while another node deletes the run, and resumes a deletion whose node died', async () => {
    const service = api.app.get(RunDeletionService);
    const run = await seedRun('session', 'completed', [Date.now(), Date.now() + 1]);
    // Another node is at it: it asked for the deletion and holds the run's lock while it trims the log.
    await api.sql('UPDATE sessions SET deletion_requested_at = now() WHERE id = $1', [run]);
    const other = await SessionLock.tryAcquire(api.db.url, run);
    if (!other) throw new Error(`the lock of ${run} is taken`);
    try {
      expect((await call(api, 'DELETE', `/sessions/${run}`, ADMIN)).status).toBe(202);
      const view = await call<SessionView>(api, 'GET', `/sessions/${run}`, ADMIN);
      expect(view.status).toBe(200);
      expect(Date.parse(view.body.deletingSince ?? '')).toBeGreaterThan(Date.now() - 60_000);
      expect(view.body.status).toBe('completed');
      // Edits are refused meanwhile: the deletion records the name it read.
      expect((await call(api, 'PATCH', `/sessions/${run}`, ADMIN, { name: 'renamed' })).status).toBe(409);
      // So are a stream's labels: they would go with its log, or outlive it.
      const stream = await seedRun('stream', 'stopped', [Date.now()]);
      await api.sql('UPDATE sessions SET deletion_requested_at = now() WHERE id = $1', [stream]);
      const refused = await call<{ message: string }>(api, 'POST', `/streams/${stream}/labels`, ADMIN, [{ sampleIndex: 0, label: 0 }]);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain('is being deleted');
      // This node leaves it to the one holding the lock (resume resolves once the jobs it started have ended).
      await service.resume();
      expect((await call(api, 'GET', `/sessions/${run}`, ADMIN)).status).toBe(200);
    } finally {
      // That node dies (its connection, and the lock with it, go).
      await other.release();
    }
    await service.resume();
    expect((await call(api, 'GET', `/sessions/${run}`, ADMIN)).status).toBe(404);
    expect(await api.sql(`SELECT 1 FROM events WHERE type = 'RunDeleted' AND data->>'runId' = $1`, [run])).toHaveLength(1);
    // Views of runs not being deleted say so.
    const kept = await seedRun('session', 'completed', [Date.now()]);
    expect((await call<SessionView>(api, 'GET', `/sessions/${kept}`, ADMIN)).body.deletingSince).toBeNull();
  });
});
