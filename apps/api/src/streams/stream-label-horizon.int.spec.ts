import path from 'node:path';
import { streamIds, type LabelStreamResponse, type SimulationView, type StreamView } from '@ddnn/contracts';
import { getSessionSummary } from '@ddnn/events';
import { repoRoot, waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';
import { Database } from '../database/database';
import { labelBehind } from './streams.service';

const ADMIN = 'test-operator-token-0123456789';
const MODEL_DIR = path.join(repoRoot, 'models', 'default');
const RATE = 100;

jest.setTimeout(240_000);

describe('labels for samples a running stream can no longer decide are refused (real Postgres)', () => {
  let api: TestApi;
  let id: string;
  let db: Database;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_CAPTURE_TOLERANCE_MS: '10000' });
    db = api.app.get(Database);
    expect((await call(api, 'POST', '/models', ADMIN, { path: MODEL_DIR, id: 'default' })).status).toBe(201);
    const sim = (await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 2, source: 'scene', scene: { seed: 3 } })).body;
    const created = await call<{ id: string }>(api, 'POST', '/streams', ADMIN, {
      modelId: 'default',
      topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } },
      rate: RATE,
      deadlineMs: 5000,
      simulationId: sim.id,
    });
    expect(created.status).toBe(201);
    id = created.body.id;
  }, 240_000);
  afterAll(() => api?.close(), 60_000);

  it('refuses a label for an undecided sample further behind the newest than any window in flight, and logs nothing', async () => {
    const stream = streamIds.stream(id);
    const behind = labelBehind(RATE);
    await waitFor(`${behind + 40} samples logged`, async () => (await db.store.countByType(stream, 'SampleStarted')) >= behind + 40, 180_000, 200);
    // Samples 0-9 leave the log as a retention pass would take them (their day's partition dropped).
    await api.sql(`DELETE FROM events WHERE stream_id = $1 AND (data->>'sampleIndex')::int < 10`, [stream]);
    const labelsBefore = await db.store.countByType(stream, 'SampleLabelled');

    const refused = await call<{ message: string }>(api, 'POST', `/streams/${id}/labels`, ADMIN, [{ sampleIndex: 5, label: 0 }]);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toMatch(/sample index\(es\) 5 are not in the log and never will be/);
    // One refused label refuses the request: the decided sample beside it is not labelled either.
    const mixed = await call(api, 'POST', `/streams/${id}/labels`, ADMIN, [
      { sampleIndex: 20, label: 0 },
      { sampleIndex: 7, label: 1 },
    ]);
    expect(mixed.status).toBe(422);
    expect(await db.store.countByType(stream, 'SampleLabelled')).toBe(labelsBefore);

    // A decided sample far behind is labelled as before, and nothing waits in the summary.
    const ok = await call<LabelStreamResponse>(api, 'POST', `/streams/${id}/labels`, ADMIN, [{ sampleIndex: 20, label: 0 }]);
    expect(ok.status).toBe(200);
    expect(ok.body.results).toEqual([{ sampleIndex: 20, label: 0, status: 'labelled' }]);
    await waitFor('the projection to fold the label', async () => ((await getSessionSummary(db.pool, id))?.labelsReceived ?? 0) >= 1, 30_000, 50);
    expect((await getSessionSummary(db.pool, id))?.pendingLabels ?? {}).toEqual({});
    expect((await call<StreamView>(api, 'POST', `/streams/${id}/stop`, ADMIN)).status).toBe(200);
  });
});
