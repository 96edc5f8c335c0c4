import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sampleSections, type DeviceMissed, type ExitDecided, type SessionEventsPage, type SimulationView, type StoredEvent, type StreamView } from '@ddnn/contracts';
import { sceneTruth, sceneView, type CameraKnobs } from '@ddnn/datasets';
import { binaryDeviceSectionRunner, softmax, type DeviceSectionRunner } from '@ddnn/ddnn';
import { repoRoot, waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';
import { writeSmallDataset } from '../../test/devices/test-fixtures';

const ADMIN = 'test-operator-token-0123456789';
const MODEL_DIR = path.join(repoRoot, 'models', 'default');
const SCENE = { seed: 3 };
const DEGRADED: CameraKnobs = { noise: 1, occlusion: 0.7 };
const CAMERA = 4;

/** The default model's device section of a camera, run here on the frames the scene says that camera shot. */
function deviceSection(view: number): DeviceSectionRunner {
  const manifest = JSON.parse(readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8')) as unknown;
  return binaryDeviceSectionRunner(manifest, `device-${view}`, readFileSync(path.join(MODEL_DIR, `device-${view}.bin`)));
}

const probabilitiesOf = (section: DeviceSectionRunner, pixels: Float32Array) => Array.from(softmax(section.infer(pixels).scores));
const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-6);

describe('a stream over scene cameras, one camera degraded mid-stream and restored (real Postgres, in-process devices)', () => {
  let api: TestApi;

  beforeAll(async () => {
    // A generous capture tolerance: on a loaded machine in-process cameras capture late, and this test is about what they capture.
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_CAPTURE_TOLERANCE_MS: '10000' });
    // The server shares this process with the test's own rendering: on a loaded machine a pause between two
    // requests can outlast Node's 5 s keep-alive, and a reused socket closing under a request reads as ECONNRESET.
    (api.app.getHttpServer() as { keepAliveTimeout: number }).keepAliveTimeout = 120_000;
    expect((await call(api, 'POST', '/models', ADMIN, { path: MODEL_DIR, id: 'default' })).status).toBe(201);
    await writeSmallDataset(api.dataDir);
  }, 120_000);
  afterAll(() => api.close(), 60_000);

  it('validates scene simulations and their knobs', async () => {
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 7, source: 'scene' })).status).toBe(400);
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 2, source: 'camera' })).status).toBe(400);
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 2, scene: { seed: 1 } })).status).toBe(400);
    expect((await call(api, 'POST', '/simulations', ADMIN, { devices: 2, source: 'scene', scene: { seed: 1.5 } })).status).toBe(400);
    const replay = await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 2 });
    expect(replay.body).toMatchObject({ source: 'dataset', scene: null });
    expect((await call(api, 'PATCH', `/simulations/${replay.body.id}/cameras/0`, ADMIN, { noise: 0.5 })).status).toBe(409);
    const scene = await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 2, source: 'scene', scene: { seed: 9, period: 10 } });
    expect(scene.status).toBe(201);
    expect(scene.body.devices.map((d) => d.name)).toEqual(['scene-0', 'scene-1']);
    expect(scene.body.scene).toEqual({ seed: 9, period: 10, cameras: [{ view: 0, noise: 0, occlusion: 0 }, { view: 1, noise: 0, occlusion: 0 }] });
    const knobs = (view: string | number, body: unknown, token: string | null = ADMIN) => call(api, 'PATCH', `/simulations/${scene.body.id}/cameras/${view}`, token, body);
    for (const bad of [{}, { noise: 1.5 }, { occlusion: -0.1 }, { noise: 'loud' }, { noise: 0.2, colour: 1 }]) expect((await knobs(1, bad)).status).toBe(400);
    expect((await knobs('one', { noise: 0.2 })).status).toBe(400);
    expect((await knobs(5, { noise: 0.2 })).status).toBe(404);
    expect((await knobs(1, { noise: 0.2 }, null)).status).toBe(401);
    expect((await call(api, 'PATCH', '/simulations/nope/cameras/0', ADMIN, { noise: 0.2 })).status).toBe(404);
    const set = await knobs(1, { occlusion: 0.25 });
    expect(set.status).toBe(200);
    expect((await knobs(1, { noise: 0.5 })).body.scene.cameras[1]).toEqual({ view: 1, noise: 0.5, occlusion: 0.25 });
    // A scene simulation serves streams: a session replays a dataset its cameras do not have.
    const session = await call(api, 'POST', '/sessions', ADMIN, {
      modelId: 'default', dataset: 'synth', split: 'test', topology: { devices: scene.body.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.95 } }, mode: 'research', deadlineMs: 2000, simulationId: scene.body.id,
    });
    expect(session.status).toBe(400);
    expect(JSON.stringify(session.body)).toMatch(/moving scene/);
    // And a dataset simulation has no live source: a stream on it replays a dataset (every sample used to fail).
    const topology = { devices: replay.body.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) };
    const live = await call(api, 'POST', '/streams', ADMIN, { modelId: 'default', topology, policy: { kind: 'entropy', thresholds: { local: 0.9 } }, deadlineMs: 2000, rate: 2 });
    expect(live.status).toBe(400);
    expect(live.body.message).toBe(
      `replay: ${replay.body.devices.map((d) => d.name).join(', ')} are simulated cameras of simulation ${replay.body.id}, which replays a dataset and has no live source: give replay {dataset, split}, or use a scene simulation`,
    );
    for (const id of [replay.body.id, scene.body.id]) expect((await call(api, 'DELETE', `/simulations/${id}`, ADMIN)).status).toBe(204);
  });

  it('devices answer on the scene frame of their capture time, and a degraded camera answers on degraded frames until restored', async () => {
    const sim = (await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 6, source: 'scene', scene: SCENE })).body;
    const created = await call<{ id: string }>(api, 'POST', '/streams', ADMIN, {
      modelId: 'default',
      topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.95 } },
      rate: 3,
      deadlineMs: 5000,
      simulationId: sim.id,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const count = async () => (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body.summary?.samplesDecided ?? 0;
    // `n` more samples decided than now: each phase gets its samples however loaded the machine is.
    const decided = async (n: number) => {
      const target = (await count()) + n;
      await waitFor(`${target} samples decided`, async () => (await count()) >= target, 120_000, 200);
    };

    // Answers of the camera captured after `since`: it answers only while it sees the object (it skips the capture
    // otherwise), and where the object is depends on the wall clock, so a phase of 20 samples could hold one answer.
    const cameraAnswers = async (since: number) => {
      let n = 0;
      for (let after: string | null = null; ; ) {
        const page: SessionEventsPage = (await call<SessionEventsPage>(api, 'GET', `/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`, ADMIN)).body;
        for (const e of page.events) for (const d of sampleSections(e)?.sections ?? []) if (d.tier === 'device' && d.view === CAMERA && (d.capturedAt ?? 0) > since) n++;
        if (!page.hasMore || page.events.length === 0) return n;
        after = page.checkpoint;
      }
    };
    const answered = (since: number, n: number) => waitFor(`${n} answers of camera ${CAMERA}`, async () => (await cameraAnswers(since)) >= n, 120_000, 500);

    await decided(15);
    await answered(0, 4);
    const degradeFrom = Date.now();
    expect((await call(api, 'PATCH', `/simulations/${sim.id}/cameras/${CAMERA}`, ADMIN, DEGRADED)).status).toBe(200);
    const degradedFrom = Date.now();
    await decided(20);
    await answered(degradedFrom, 6);
    const restoreFrom = Date.now();
    expect((await call(api, 'PATCH', `/simulations/${sim.id}/cameras/${CAMERA}`, ADMIN, { noise: 0, occlusion: 0 })).status).toBe(200);
    const restoredFrom = Date.now();
    await decided(15);
    await answered(restoredFrom, 4);
    expect((await call(api, 'POST', `/streams/${id}/stop`, ADMIN)).status).toBe(200);
    await waitFor('the stream to stop', async () => (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body.status === 'stopped', 60_000, 200);

    const events: StoredEvent[] = [];
    for (let after: string | null = null; ; ) {
      const page: SessionEventsPage = (await call<SessionEventsPage>(api, 'GET', `/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`, ADMIN)).body;
      events.push(...page.events);
      if (!page.hasMore || page.events.length === 0) break;
      after = page.checkpoint;
    }
    // The scene knows the truth: labels posted from it give the stream an accuracy.
    const started = events.filter((e) => e.type === 'SampleStarted').map((e) => e.data as { sampleIndex: number; triggeredAt?: number });
    expect(started.every((s) => typeof s.triggeredAt === 'number')).toBe(true);
    const labels = started.map((s) => ({ sampleIndex: s.sampleIndex, label: sceneTruth(SCENE, s.triggeredAt as number).label }));
    const posted = await call<{ results: { status: string }[] }>(api, 'POST', `/streams/${id}/labels`, ADMIN, labels);
    expect(posted.status).toBe(200);
    // A sample no camera saw has no answer to label (status unanswered, nothing logged); every other is labelled.
    expect(posted.body.results.filter((r) => r.status !== 'labelled' && r.status !== 'unanswered')).toEqual([]);
    const summary = await waitFor('the labels in the summary', async () => {
      const s = (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body.summary;
      return s && s.labelled === s.samplesDecided && s.labelled >= 50 ? s : null;
    }, 30_000, 200);
    // The summary counts what the log says: each sample's answering exit against the scene's truth.
    const truth = new Map(labels.map((l) => [l.sampleIndex, l.label]));
    const answers = events.filter((e) => e.type === 'ExitDecided').map((e) => e.data as ExitDecided).filter((d) => d.exited && !d.shadow);
    const right = answers.filter((d) => d.prediction === truth.get(d.sampleIndex)).length;
    expect(summary.accuracy).toBeCloseTo(right / answers.length, 9);
    process.stdout.write(`scene stream: ${right}/${answers.length} right (${summary.accuracy})\n`);
    // Well above chance (1/3): at load 20 a third of camera 4's frames degraded and captures skipped under load
    // took it from ~0.8 to 0.54, so this asks only that the model sees the scene.
    expect(summary.accuracy).toBeGreaterThan(0.45);

    const evaluated = events.flatMap((e) => sampleSections(e)?.sections ?? []).filter((d) => d.tier === 'device');
    const phase = (t: number) => (t < degradeFrom ? 'clean' : t > degradedFrom && t < restoreFrom ? 'degraded' : t > restoredFrom ? 'restored' : 'switching');
    const sections = new Map([CAMERA, 3].map((v) => [v, deviceSection(v)]));
    const seen = { clean: 0, degraded: 0, restored: 0, changedByKnobs: 0, degradedWithObject: 0 };
    for (const d of evaluated) {
      if (d.view === undefined || !sections.has(d.view)) continue;
      expect(typeof d.capturedAt).toBe('number');
      const at = d.capturedAt as number;
      const p = phase(at);
      if (p === 'switching') continue;
      const section = sections.get(d.view) as DeviceSectionRunner;
      const clean = sceneView(SCENE, at, d.view);
      if (d.view !== CAMERA || p !== 'degraded') {
        // Every other camera, and this one before and after, answers on the clean frame of its capture time.
        expect(same(d.probabilities, probabilitiesOf(section, clean.pixels))).toBe(true);
        if (d.view === CAMERA) seen[p]++;
        continue;
      }
      seen.degraded++;
      expect(same(d.probabilities, probabilitiesOf(section, sceneView(SCENE, at, CAMERA, DEGRADED).pixels))).toBe(true);
      if (clean.present) {
        seen.degradedWithObject++;
        if (!same(d.probabilities, probabilitiesOf(section, clean.pixels))) seen.changedByKnobs++;
      }
    }
    const missed = events.filter((e) => e.type === 'DeviceMissed').map((e) => e.data as DeviceMissed).filter((d) => d.view === CAMERA);
    if (missed.length) process.stdout.write(`camera ${CAMERA} missed: ${JSON.stringify(missed.map((m) => `${m.sampleIndex}:${m.reason}:${m.detail ?? ''}`))}\n`);
    // A loaded machine makes a camera skip some captures (busy): each phase still has answers of camera 4.
    expect(seen.clean).toBeGreaterThanOrEqual(3);
    expect(seen.degraded).toBeGreaterThanOrEqual(5);
    expect(seen.restored).toBeGreaterThanOrEqual(3);
    expect(seen.degradedWithObject).toBeGreaterThan(0);
    expect(seen.changedByKnobs).toBe(seen.degradedWithObject);

  }, 300_000);
});
