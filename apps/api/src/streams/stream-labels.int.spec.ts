import { answersSample, streamIds, type LabelStreamResponse, type SessionEventsPage, type StoredEvent, type StreamView } from '@ddnn/contracts';
import { getSessionSummary, type ReadAllPage } from '@ddnn/events';
import { waitFor } from '@ddnn/testing';
import { call, startSimulatedStream, startTestApi, type TestApi } from '../../test/devices/test-app';
import { Database } from '../database/database';
import { labelBehind } from './streams.service';

const ADMIN = 'test-operator-token-0123456789';
const RATE = 100;

jest.setTimeout(240_000);

async function readAll(api: TestApi, id: string): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let after: string | null = null; ; ) {
    const res: { status: number; body: SessionEventsPage } = await call<SessionEventsPage>(api, 'GET', `/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`, ADMIN);
    expect(res.status).toBe(200);
    events.push(...res.body.events);
    if (!res.body.hasMore || res.body.events.length === 0) return events;
    after = res.body.checkpoint;
  }
}

/** Accuracy and labelled samples recounted from a stream's events: decided samples whose label is logged. */
function recount(events: StoredEvent[]): { labelled: number; accuracy: number | null } {
  const predictions = new Map<number, number>();
  const labels = new Map<number, number>();
  for (const e of events) {
    if (e.type === 'ExitDecided' && answersSample(e.data)) predictions.set(e.data.sampleIndex, e.data.prediction);
    if (e.type === 'SampleLabelled') labels.set(e.data.sampleIndex, e.data.label);
  }
  const both = [...labels].filter(([i]) => predictions.has(i));
  const correct = both.filter(([i, l]) => predictions.get(i) === l).length;
  return { labelled: both.length, accuracy: both.length ? correct / both.length : null };
}

describe('labelling a stream reads the named samples and the summary from its projection on, not the whole stream, and refuses samples it can never decide (real Postgres)', () => {
  let api: TestApi;
  let id: string;
  let db: Database;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_CAPTURE_TOLERANCE_MS: '10000' });
    db = api.app.get(Database);
    id = await startSimulatedStream(api, ADMIN, { devices: 2, seed: 7, stream: { mode: 'research', rate: 10 } });
    // Waits on the log and the sessions table, not on GET /streams/:id: that would leave this node a summary folded
    // from the stream's start, which the labels request must not need.
    const stream = streamIds.stream(id);
    // The tests below label 10, then 5 more of its decided samples, and the last needs one left unlabelled: 25 at
    // least (a sample logs two ExitDecided, the local check and the cloud's; 30 of them left exactly 15 samples).
    await waitFor('25 samples decided', async () => (await db.store.countByType(stream, 'ExitDecided')) >= 50, 180_000, 200);
    expect((await call(api, 'POST', `/streams/${id}/stop`, ADMIN)).status).toBe(200);
    await waitFor('the stream to stop', async () => (await api.sql<{ status: string }>('SELECT status FROM sessions WHERE id = $1', [id]))[0]?.status === 'stopped', 60_000, 200);
  }, 240_000);
  afterAll(() => api?.close(), 60_000);

  it('answers with the accuracy a recount of the log gives, having read only the events after the projection', async () => {
    const logged = await readAll(api, id);
    const last = logged[logged.length - 1].checkpoint;
    await waitFor('the projection to reach the end of the stream', async () => (await getSessionSummary(db.pool, id))?.checkpoint === last, 30_000, 50);
    const decisions = logged.filter((e): e is StoredEvent<'ExitDecided'> => e.type === 'ExitDecided' && answersSample(e.data));
    const named = decisions.slice(0, 6).map((e) => ({ sampleIndex: e.data.sampleIndex, label: (e.data.prediction + (e.data.sampleIndex % 2)) % 2 }));

    // Another node, which has never folded this stream's summary.
    const other = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_NODE_ID: 'labels-node-2' }, api.db);
    const reads = jest.spyOn(other.app.get(Database).store, 'readStreamAfter');
    try {
      const res = await call<LabelStreamResponse>(other, 'POST', `/streams/${id}/labels`, ADMIN, named);
      expect(res.status).toBe(200);
      expect(res.body.results.map((r) => r.status)).toEqual(named.map(() => 'labelled'));
      const read = (await Promise.all(reads.mock.results.map((r) => r.value as Promise<ReadAllPage>))).flatMap((p) => p.events);
      // Nothing before the projection's checkpoint: only the labels this request logged.
      expect(read.map((e) => e.type)).toEqual(named.map(() => 'SampleLabelled'));
      expect(res.body).toMatchObject(recount(await readAll(api, id)));
      expect(res.body.labelled).toBe(named.length);
    } finally {
      reads.mockRestore();
      await other.close();
    }
    // Again, with the projection behind the log: what it has not folded yet counts too.
    const more = decisions.slice(6, 10).map((e) => ({ sampleIndex: e.data.sampleIndex, label: e.data.prediction }));
    const again = await call<LabelStreamResponse>(api, 'POST', `/streams/${id}/labels`, ADMIN, more);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject(recount(await readAll(api, id)));
    expect(again.body.labelled).toBe(named.length + more.length);
  });

  it("counts the labels it has just logged while an older transaction holds the log's head back", async () => {
    const before = recount(await readAll(api, id));
    const logged = await readAll(api, id);
    const pending = logged
      .filter((e): e is StoredEvent<'ExitDecided'> => e.type === 'ExitDecided' && answersSample(e.data))
      .filter((e) => !logged.some((l) => l.type === 'SampleLabelled' && l.data.sampleIndex === e.data.sampleIndex))
      .slice(0, 5)
      .map((e) => ({ sampleIndex: e.data.sampleIndex, label: e.data.prediction }));
    expect(pending).toHaveLength(5);
    // A transaction that started before the request (a writer's batch, a slow report) and is still open: reads of
    // the log cannot see anything committed after it began until it ends.
    await api.sql('BEGIN');
    await api.sql('SELECT pg_current_xact_id()');
    let answered = false;
    const request = call<LabelStreamResponse>(api, 'POST', `/streams/${id}/labels`, ADMIN, pending).finally(() => (answered = true));
    try {
      await waitFor('the labels to be committed', async () => (await db.store.countByType(streamIds.stream(id), 'SampleLabelled')) >= before.labelled + 5, 30_000, 20);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answered).toBe(false);
    } finally {
      await api.sql('ROLLBACK');
    }
    const res = await request;
    expect(res.status).toBe(200);
    expect(res.body.labelled).toBe(before.labelled + 5);
    expect(res.body).toMatchObject(recount(await readAll(api, id)));
  });

  it('refuses a label for an undecided sample further behind the newest than any window in flight, and logs nothing', async () => {
    // A running stream of its own, fast enough to be more than a window of samples past the ones it loses.
    const id = await startSimulatedStream(api, ADMIN, { devices: 2, seed: 3, stream: { rate: RATE } });
    const stream = streamIds.stream(id);
    const behind = labelBehind(RATE);
    await waitFor(`${behind + 40} samples logged`, async () => (await db.store.countByType(stream, 'SampleStarted')) >= behind + 40, 180_000, 200);
    // Samples 0-9 leave the log as a retention pass would take them (their day's partition dropped).
    await api.sql(`DELETE FROM events WHERE stream_id = $1 AND (data->>'sampleIndex')::int < 10`, [stream]);
    const labelsBefore = await db.store.countByType(stream, 'SampleLabelled');
    // A decided sample past the deleted ones (two cameras: a sample neither saw is unanswered, not decided).
    const [{ i: decided }] = await api.sql<{ i: number }>(
      `SELECT min((data->>'sampleIndex')::int) AS i FROM events
        WHERE stream_id = $1 AND type = 'ExitDecided' AND (data->>'exited')::boolean AND NOT (data->>'shadow')::boolean AND (data->>'sampleIndex')::int >= 10`,
      [stream],
    );

    const refused = await call<{ message: string }>(api, 'POST', `/streams/${id}/labels`, ADMIN, [{ sampleIndex: 5, label: 0 }]);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/sample index\(es\) 5 are not in the log and never will be/);
    // One refused label refuses the request: the decided sample beside it is not labelled either.
    const mixed = await call(api, 'POST', `/streams/${id}/labels`, ADMIN, [
      { sampleIndex: decided, label: 0 },
      { sampleIndex: 7, label: 1 },
    ]);
    expect(mixed.status).toBe(422);
    expect(await db.store.countByType(stream, 'SampleLabelled')).toBe(labelsBefore);

    // A decided sample far behind is labelled as before, and nothing waits in the summary.
    const ok = await call<LabelStreamResponse>(api, 'POST', `/streams/${id}/labels`, ADMIN, [{ sampleIndex: decided, label: 0 }]);
    expect(ok.status).toBe(200);
    expect(ok.body.results).toEqual([{ sampleIndex: decided, label: 0, status: 'labelled' }]);
    await waitFor('the projection to fold the label', async () => ((await getSessionSummary(db.pool, id))?.labelsReceived ?? 0) >= 1, 30_000, 50);
    expect((await getSessionSummary(db.pool, id))?.pendingLabels ?? {}).toEqual({});
    expect((await call<StreamView>(api, 'POST', `/streams/${id}/stop`, ADMIN)).status).toBe(200);
  });

  it('a sample no device answered has no answer: no cloud guess in the log, unanswered in the summary, its label not logged', async () => {
    // Both cameras crash at sample 10: every later sample reaches no exit (an earlier one neither camera saw neither).
    const CRASH = 10;
    const failures = [0, 1].map((device) => ({ device, atSample: CRASH, kind: 'crash' }));
    const run = await startSimulatedStream(api, ADMIN, { devices: 2, seed: 5, stream: { rate: 20 }, simulation: { failures } });
    const stream = streamIds.stream(run);
    await waitFor('6 unanswered samples', async () => (await db.store.countByType(stream, 'SampleUnanswered')) >= 6, 120_000, 200);
    expect((await call(api, 'POST', `/streams/${run}/stop`, ADMIN)).status).toBe(200);
    await waitFor('the stream to stop', async () => (await api.sql<{ status: string }>('SELECT status FROM sessions WHERE id = $1', [run]))[0]?.status === 'stopped', 60_000, 200);
    const logged = await readAll(api, run);
    const unanswered = new Set(logged.filter((e): e is StoredEvent<'SampleUnanswered'> => e.type === 'SampleUnanswered').map((e) => e.data.sampleIndex));
    const started = logged.filter((e): e is StoredEvent<'SampleStarted'> => e.type === 'SampleStarted').map((e) => e.data.sampleIndex);
    expect(started.filter((i) => i >= CRASH && !unanswered.has(i))).toEqual([]);
    for (const i of unanswered) {
      // Its one check is the local one that could not exit; no exit answered it, nothing was sent.
      const checks = logged.filter((e): e is StoredEvent<'ExitDecided'> => e.type === 'ExitDecided' && e.data.sampleIndex === i);
      expect(checks.map((c) => [c.data.tier, c.data.exited, c.data.prediction])).toEqual([['local', false, -1]]);
      expect(logged.some((e) => e.type === 'MessagesTransferred' && e.data.sampleIndex === i)).toBe(false);
    }
    const decided = logged.filter((e): e is StoredEvent<'ExitDecided'> => e.type === 'ExitDecided' && answersSample(e.data)).map((e) => e.data.sampleIndex);
    expect(decided.length + unanswered.size).toBe(started.length);
    const view = await call<StreamView>(api, 'GET', `/streams/${run}`, ADMIN);
    expect(view.body.summary).toMatchObject({ unanswered: unanswered.size, samplesDecided: decided.length });

    const [first] = [...unanswered];
    const labels = [{ sampleIndex: first, label: 1 }, ...decided.slice(0, 1).map((i) => ({ sampleIndex: i, label: 0 }))];
    const res = await call<LabelStreamResponse>(api, 'POST', `/streams/${run}/labels`, ADMIN, labels);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ sampleIndex: first, label: 1, status: 'unanswered' }, ...decided.slice(0, 1).map((i) => ({ sampleIndex: i, label: 0, status: 'labelled' }))]);
    expect((await readAll(api, run)).filter((e) => e.type === 'SampleLabelled').map((e) => e.data.sampleIndex)).toEqual(decided.slice(0, 1));
  });

  it('logs nothing when a deletion begins between its checks and its append (409), so no label outlives the log', async () => {
    const stream = streamIds.stream(id);
    // A decided sample without a label, from the table, as the labels request reads it.
    const [decided] = await api.sql<{ i: number }>(
      `SELECT (d.data->>'sampleIndex')::int AS i FROM events d
        WHERE d.stream_id = $1 AND d.type = 'ExitDecided' AND (d.data->>'exited')::boolean AND NOT (d.data->>'shadow')::boolean
          AND NOT EXISTS (SELECT 1 FROM events l WHERE l.stream_id = $1 AND l.type = 'SampleLabelled' AND l.data->>'sampleIndex' = d.data->>'sampleIndex')
        ORDER BY 1 LIMIT 1`,
      [stream],
    );
    if (!decided) throw new Error(`stream ${id} has no decided sample without a label`);
    const before = await db.store.countByType(stream, 'SampleLabelled');
    // An operator's DELETE marks the stream while the request reads the samples it names.
    const read = db.store.samplePayloads.bind(db.store);
    const spy = jest.spyOn(db.store, 'samplePayloads').mockImplementationOnce(async (...args) => {
      await api.sql('UPDATE sessions SET deletion_requested_at = now() WHERE id = $1', [id]);
      return read(...args);
    });
    try {
      const res = await call<{ message: string }>(api, 'POST', `/streams/${id}/labels`, ADMIN, [{ sampleIndex: decided.i, label: 0 }]);
      expect(res.status).toBe(409);
      expect(res.body.message).toBe(`stream ${id} is being deleted: its labels are no longer taken (nothing was logged)`);
    } finally {
      spy.mockRestore();
    }
    expect(await db.store.countByType(stream, 'SampleLabelled')).toBe(before);
  });
});
