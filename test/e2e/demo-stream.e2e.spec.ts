import fs from 'node:fs';
import path from 'node:path';
import type { SampleLabelled, SampleStarted, SessionEventsPage, SessionList, SimulationView, StoredEvent, StreamList, StreamView } from '@ddnn/contracts';
import { sceneTruth } from '@ddnn/datasets';
import { type ApiProcess, createTestDatabase, e2eModelDir, startApi, tempDir, type TestDatabase, waitFor, sectionsIn } from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-0123456789';

describe('npm start\'s demo stream (the API as a process, a fresh data folder)', () => {
  let db: TestDatabase;
  let work: string;
  let api: ApiProcess | undefined;
  const headers = { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    if (!api) throw new Error('no API running');
    const res = await fetch(`${api.url}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const boot = async () =>
    startApi(
      {
        DATABASE_URL: db.url,
        DDNN_DATA_DIR: path.join(work, 'data'),
        DDNN_DEFAULT_MODEL_DIR: e2eModelDir(),
        DDNN_ADMIN_TOKEN: TOKEN,
        DDNN_DEMO: 'true',
        DDNN_DEMO_STREAM_RATE: '2',
        DDNN_SESSION_POLL_MS: '200',
      },
      300_000,
    );
  const demoStreams = async () => (await call<StreamList>('GET', '/api/streams?limit=100')).items.filter((s) => s.tags.includes('demo'));
  const events = async (id: string) => {
    const out: StoredEvent[] = [];
    for (let after: string | null = null; ; ) {
      const page: SessionEventsPage = await call<SessionEventsPage>('GET', `/api/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
      out.push(...page.events);
      if (!page.hasMore || page.events.length === 0) return out;
      after = page.checkpoint;
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    work = tempDir('ddnn-e2e-demo-');
    api = await boot();
  }, 600_000);

  afterAll(async () => {
    await api?.stop('SIGTERM');
    await db?.drop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('starts a stream over six scene cameras whose labels arrive a few seconds late, from the scene truth', async () => {
    const stream = await waitFor(
      'the demo stream deciding samples and receiving labels',
      async () => {
        const [s] = await demoStreams();
        return s && s.status === 'running' && (s.summary?.samplesDecided ?? 0) >= 16 && (s.summary?.labelled ?? 0) >= 8 ? s : null;
      },
      600_000,
      1000,
    );
    expect(stream).toMatchObject({ rate: 2, modelId: 'default', mode: 'production', name: 'Demo: street cameras' });
    // The demo's T (DDNN_DEMO_THRESHOLD), not models/default's own T = 1, under which no sample reaches the cloud.
    expect(stream.policy).toEqual({ kind: 'entropy', thresholds: { local: 0.8 } });
    expect(stream.topology.devices.map((d) => d.view)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(stream.summary?.accuracy).not.toBeNull();

    // Its cameras are a scene simulation on this node, one per view, with their knobs at rest.
    const sims = await call<SimulationView[]>('GET', '/api/simulations');
    const scene = sims.find((s) => s.source === 'scene');
    expect(scene?.devices.map((d) => d.deviceId).sort()).toEqual(stream.topology.devices.map((d) => d.deviceId).sort());
    expect(scene?.scene?.cameras.every((c) => c.noise === 0 && c.occlusion === 0)).toBe(true);

    // Labels come from the scene's truth, a few seconds after each sample's capture.
    const log = await events(stream.id);
    const triggered = new Map(log.filter((e) => e.type === 'SampleStarted').map((e) => [(e.data as SampleStarted).sampleIndex, (e.data as SampleStarted).triggeredAt as number]));
    const labels = log.filter((e) => e.type === 'SampleLabelled').map((e) => e.data as SampleLabelled);
    expect(labels.length).toBeGreaterThanOrEqual(8);
    for (const l of labels) {
      const lateness = l.labelledAt - (triggered.get(l.sampleIndex) as number);
      expect(lateness).toBeGreaterThanOrEqual(4000);
      expect(lateness).toBeLessThan(60_000);
    }
    // ... and they are the truth of what the cameras shot (the demo's scene: seed 1, repeating after 45 passages).
    const capturedAt = new Map<number, number[]>();
    for (const d of sectionsIn(log)) {
      if (d.capturedAt !== undefined) capturedAt.set(d.sampleIndex, [...(capturedAt.get(d.sampleIndex) ?? []), d.capturedAt]);
    }
    for (const l of labels) {
      const truths = (capturedAt.get(l.sampleIndex) ?? []).map((t) => sceneTruth({ seed: 1, period: 45 }, t).label);
      expect(truths).toContain(l.label);
    }

  }, 900_000);

  it('records the demo session over the dataset on the devices that replay it, never on the scene cameras', async () => {
    // A fresh start used to hand the research session the scene cameras (simulated end devices with views too),
    // which shoot the moving scene whatever sample they are asked: 171 samples at chance accuracy.
    const demo = await waitFor(
      'the demo session to complete',
      // The list's summaries come from the projection, which may trail the session's row by a moment (documented lag).
      async () => (await call<SessionList>('GET', '/api/sessions?limit=100')).items.find((s) => s.demo && s.status === 'completed' && s.summary?.samplesDecided === s.sampleCount) ?? null,
      600_000,
      1000,
    );
    const sims = await call<SimulationView[]>('GET', '/api/simulations');
    const replaying = sims.filter((s) => s.source === 'dataset').flatMap((s) => s.devices.map((d) => d.deviceId));
    const cameras = sims.filter((s) => s.source === 'scene').flatMap((s) => s.devices.map((d) => d.deviceId));
    expect(demo.topology.devices).toHaveLength(6);
    for (const d of demo.topology.devices) {
      expect(replaying).toContain(d.deviceId);
      expect(cameras).not.toContain(d.deviceId);
    }
    expect(demo.summary?.samplesDecided).toBe(demo.sampleCount);
    // The replayed test split scores what the model scores on it (three classes: chance is 0.33).
    expect(demo.summary?.accuracy ?? 0).toBeGreaterThan(0.75);
  }, 900_000);

  it('resumes the same stream on the same cameras after a restart, and starts no second one', async () => {
    const [listed] = await demoStreams();
    await api?.stop('SIGTERM');
    // Its summary folded to the head of its log once this node is gone (the list's projection may lag).
    api = await boot();
    const before = await call<StreamView>('GET', `/api/streams/${listed.id}`);
    const cameras = await waitFor('the scene cameras back on the restarted node', async () => (await call<SimulationView[]>('GET', '/api/simulations')).find((s) => s.source === 'scene'), 600_000, 1000);
    expect(cameras.devices.map((d) => d.deviceId).sort()).toEqual(before.topology.devices.map((d) => d.deviceId).sort());
    // What the stream's note tells an operator to call still works after the restart (it named a simulation gone).
    const degrade = /PATCH (\/api\/simulations\/[0-9a-f-]+\/cameras)\/<view>/.exec(before.note);
    expect(degrade?.[1]).toBe(`/api/simulations/${cameras.id}/cameras`);
    expect(await call('PATCH', `${degrade?.[1]}/2`, { noise: 0 })).toMatchObject({ id: cameras.id });
    const after = await waitFor(
      'the demo stream to go on after the restart',
      async () => {
        const s = await call<StreamView>('GET', `/api/streams/${listed.id}`);
        return s.status === 'running' && (s.summary?.samplesDecided ?? 0) >= (before.summary?.samplesDecided ?? 0) + 6 && (s.summary?.labelled ?? 0) > (before.summary?.labelled ?? 0) ? s : null;
      },
      600_000,
      1000,
    );
    expect((await demoStreams()).map((s) => s.id)).toEqual([after.id]);
  }, 900_000);
});
