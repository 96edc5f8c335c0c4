import path from 'node:path';
import type { CompareResponse, SessionEventsPage, SimulationView, StoredEvent, StreamView, SweepResult } from '@ddnn/contracts';
import { repoRoot, waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';
const MODEL_DIR = path.join(repoRoot, 'models', 'default');

jest.setTimeout(240_000);

/** A stream's events through the REST API, page by page, optionally in a window of database time. */
async function readAll(api: TestApi, id: string, window = ''): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for (let after: string | null = null; ; ) {
    const res: { status: number; body: SessionEventsPage } = await call<SessionEventsPage>(api, 'GET', `/streams/${id}/events?limit=7${window}${after ? `&after=${after}` : ''}`, ADMIN);
    expect(res.status).toBe(200);
    events.push(...res.body.events);
    if (!res.body.hasMore || res.body.events.length === 0) return events;
    after = res.body.checkpoint;
  }
}

describe('a window of a stream: its events by time, and compare over its samples (real Postgres, simulated devices)', () => {
  let api: TestApi;
  let id: string;
  let all: StoredEvent[];

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_CAPTURE_TOLERANCE_MS: '10000' });
    (api.app.getHttpServer() as { keepAliveTimeout: number }).keepAliveTimeout = 120_000;
    expect((await call(api, 'POST', '/models', ADMIN, { path: MODEL_DIR, id: 'default' })).status).toBe(201);
    const sim = (await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 2, source: 'scene', scene: { seed: 5 } })).body;
    const created = await call<{ id: string }>(api, 'POST', '/streams', ADMIN, {
      modelId: 'default',
      topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } },
      mode: 'research',
      rate: 5,
      deadlineMs: 5000,
      simulationId: sim.id,
    });
    expect(created.status).toBe(201);
    id = created.body.id;
    const decided = async () => (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body.summary?.samplesDecided ?? 0;
    await waitFor('20 samples decided', async () => (await decided()) >= 20, 180_000, 200);
    expect((await call(api, 'POST', `/streams/${id}/stop`, ADMIN)).status).toBe(200);
    await waitFor('the stream to stop', async () => (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body.status === 'stopped', 60_000, 200);
    all = await readAll(api, id);
  }, 240_000);
  afterAll(() => api?.close(), 60_000);

  it('GET /streams/:id/events?from&to returns exactly the events logged in [from, to), paged, and refuses bad windows', async () => {
    const times = all.map((e) => Date.parse(e.createdAt));
    // A cut in the middle of the stream's life: the two halves partition the log.
    const cut = new Date(times[Math.floor(times.length / 2)]).toISOString();
    const start = new Date(times[0] - 1000).toISOString();
    const end = new Date(times[times.length - 1] + 1000).toISOString();
    const before = await readAll(api, id, `&from=${start}&to=${cut}`);
    const after = await readAll(api, id, `&from=${cut}&to=${end}`);
    expect(before.every((e) => Date.parse(e.createdAt) < Date.parse(cut))).toBe(true);
    expect(after.every((e) => Date.parse(e.createdAt) >= Date.parse(cut))).toBe(true);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect([...before, ...after].map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
    expect(await readAll(api, id, `&from=${cut}`)).toEqual(after);
    expect(await readAll(api, id, `&to=${new Date(times[0] - 60_000).toISOString()}`)).toEqual([]);

    for (const bad of ['from=yesterday', 'to=2026-13-01T00:00:00Z', `from=${cut}&to=${cut}`, `from=${end}&to=${start}`, 'from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z']) {
      const res = await call(api, 'GET', `/streams/${id}/events?${bad}`, ADMIN);
      expect([bad, res.status]).toEqual([bad, 400]);
    }
    expect((await call(api, 'GET', `/streams/${id}/events?from=${cut}`, null)).status).toBe(401);
  });

  it('POST /analysis/compare evaluates a stream on the window of samples it names, and only there', async () => {
    const policies = [{ kind: 'always-local' }, { kind: 'entropy', thresholds: { local: 0.5 } }];
    // A stream has no end: compare needs a window.
    const whole = await call(api, 'POST', '/analysis/compare', ADMIN, { sessionIds: [id], policies });
    expect(whole.status).toBe(400);
    expect(JSON.stringify(whole.body)).toMatch(/window/);

    const decidedIdx = [...new Set(all.flatMap((e) => (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow ? [e.data.sampleIndex] : [])))].sort((a, b) => a - b);
    const lo = decidedIdx[3];
    const hi = decidedIdx[12];
    const inWindow = decidedIdx.filter((i) => i >= lo && i <= hi);
    // Labels for some samples in the window and one outside it: only those inside count.
    const labels = [lo, lo + 1, hi, decidedIdx[0]].map((sampleIndex) => ({ sampleIndex, label: 0 }));
    expect((await call(api, 'POST', `/streams/${id}/labels`, ADMIN, labels)).status).toBe(200);

    const res = await call<CompareResponse>(api, 'POST', '/analysis/compare', ADMIN, { sessionIds: [id], policies, windows: { [id]: { fromSample: lo, toSample: hi } } });
    expect(res.status).toBe(200);
    expect(res.body.rows).toHaveLength(2);
    for (const row of res.body.rows) {
      expect(row.evaluable).toBe(true);
      if (!row.evaluable) continue;
      expect(row.samples).toBe(inWindow.length);
      expect(row.labelledSamples).toBe(new Set([lo, lo + 1, hi].filter((i) => inWindow.includes(i))).size);
    }
    // The live policy, replayed on the window, decides as the stream did there.
    const live = res.body.rows[1];
    const exitedLocally = all.filter((e) => e.type === 'ExitDecided' && e.data.exited && !e.data.shadow && e.data.tier === 'local' && inWindow.includes(e.data.sampleIndex)).length;
    if (live.evaluable) expect(live.localExitRate).toBeCloseTo(exitedLocally / inWindow.length, 10);

    const bad = [
      { [id]: { fromSample: 5, toSample: 2 } },
      { [id]: { fromSample: 0, toSample: 60_000 } },
      { [id]: { fromSample: -1, toSample: 2 } },
      { [id]: { fromSample: 0, toSample: 2, extra: 1 } },
      { 'some-other-run': { fromSample: 0, toSample: 2 } },
    ];
    for (const windows of bad) expect((await call(api, 'POST', '/analysis/compare', ADMIN, { sessionIds: [id], policies, windows })).status).toBe(400);
    const empty = await call(api, 'POST', '/analysis/compare', ADMIN, { sessionIds: [id], policies, windows: { [id]: { fromSample: 40_000, toSample: 40_010 } } });
    expect(empty.status).toBe(422);
  });

  it('GET /analysis/sweep takes a window of a stream (and needs one), and agrees with compare on it', async () => {
    const decidedIdx = [...new Set(all.flatMap((e) => (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow ? [e.data.sampleIndex] : [])))].sort((a, b) => a - b);
    const lo = decidedIdx[2];
    const hi = decidedIdx[15];
    const whole = await call(api, 'GET', `/analysis/sweep?sessionId=${id}&policy=entropy&points=11`, ADMIN);
    expect(whole.status).toBe(400);
    expect(JSON.stringify(whole.body)).toMatch(/window/);

    const res = await call<SweepResult>(api, 'GET', `/analysis/sweep?sessionId=${id}&policy=entropy&points=11&fromSample=${lo}&toSample=${hi}`, ADMIN);
    expect(res.status).toBe(200);
    expect(res.body.points).toHaveLength(11);
    const atHalf = res.body.points[5];
    expect(atHalf.threshold).toBe(0.5);
    const policies = [{ kind: 'entropy', thresholds: { local: 0.5 } }];
    const compared = await call<CompareResponse>(api, 'POST', '/analysis/compare', ADMIN, { sessionIds: [id], policies, windows: { [id]: { fromSample: lo, toSample: hi } } });
    const row = compared.body.rows[0];
    expect(row.evaluable && atHalf.evaluable).toBe(true);
    if (row.evaluable) {
      expect(atHalf.localExitRate).toBeCloseTo(row.localExitRate, 10);
      expect(atHalf.bytesPerSample).toBeCloseTo(row.bytesPerSample, 6);
    }

    for (const bad of [`fromSample=${lo}`, `toSample=${hi}`, `fromSample=${hi}&toSample=${lo}`, 'fromSample=-1&toSample=3', 'fromSample=1.5&toSample=3', 'fromSample=0&toSample=60000', 'fromSample=x&toSample=3']) {
      const r = await call(api, 'GET', `/analysis/sweep?sessionId=${id}&policy=entropy&points=11&${bad}`, ADMIN);
      expect([bad, r.status]).toEqual([bad, 400]);
    }
    expect((await call(api, 'GET', `/analysis/sweep?sessionId=${id}&policy=entropy&fromSample=40000&toSample=40010`, ADMIN)).status).toBe(422);
  });
});
