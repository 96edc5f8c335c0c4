import path from 'node:path';
import {
  emptySessionSummary,
  foldSessionSummary,
  LIVE_NAMESPACE,
  LiveEvents,
  sampleTraffic,
  type LiveEventMessage,
  type LiveProgressMessage,
  type LiveSubscribeAck,
  type SessionEventsPage,
  type SessionView,
  type StoredEvent,
} from '@ddnn/contracts';
import { deviceSampleBytes, parseTopology, readCheckpointManifest, topologyShapes, type MapShape } from '@ddnn/ddnn';
import { getSessionSummary } from '@ddnn/events';
import {
  type ApiProcess,
  bootPlatform,
  e2eModelDir,
  operatorClient,
  type Platform,
  readSessionEvents,
  researchSession,
  type RunningProcess,
  startAgent,
  waitFor,
  waitForDevices,
  waitForSessionCompleted,
  sectionsIn,
} from '@ddnn/testing';
import { Pool } from 'pg';
import { io } from 'socket.io-client';


const TOKEN = 'e2e-operator-token-0123456789';
const op = operatorClient(TOKEN);
const VIEWS = [0, 1, 2, 3, 4, 5];
const KILLED_VIEW = 3;


describe('a session across six device-agent processes (real Postgres, real processes)', () => {
  let platform: Platform;
  let api: ApiProcess | undefined;
  const agents: RunningProcess[] = [];
  const call = <T>(method: string, route: string, body?: unknown) => op.call<T>(api!, method, route, body);

  beforeAll(async () => {
    platform = await bootPlatform({ name: 'sessions', token: TOKEN });
    api = await platform.start();
  }, 600_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await api?.stop('SIGTERM');
    await platform?.teardown();
  });

  it('provisions, connects and runs 171 samples; a killed agent becomes DeviceMissed; bytes and summary add up', async () => {
    const { provisioningKey } = await call<{ provisioningKey: string }>('POST', '/api/profiles', { name: 'e2e-cameras' });
    for (const view of VIEWS) {
      agents.push(startAgent({ server: api!.url, profileKey: provisioningKey, name: `cam-${view}`, view, stateDir: platform.work, args: ['--data', path.join(platform.dataDir, 'datasets')] }));
    }
    const devices = await waitForDevices(op, api!, VIEWS.length, 'name=cam-', 90_000);
    const byView = new Map(devices.map((d) => [d.view as number, d.id]));

    const spec = researchSession(VIEWS.map((view) => ({ id: byView.get(view)!, view })), { deadlineMs: 1500, rate: 8 });
    const { id } = await call<{ id: string }>('POST', '/api/sessions', spec);

    // The dashboard's feed: a stranger is refused; the operator follows the session's events and progress.
    const stranger = io(`${api!.url}${LIVE_NAMESPACE}`, { auth: { token: 'nope' }, transports: ['websocket'], reconnection: false });
    await expect(new Promise((_, reject) => stranger.on('connect_error', reject))).rejects.toThrow(/operator token/);
    stranger.close();
    const feed = io(`${api!.url}${LIVE_NAMESPACE}`, { auth: { token: TOKEN }, transports: ['websocket'] });
    const liveEvents: LiveEventMessage[] = [];
    const progress: LiveProgressMessage[] = [];
    feed.on(LiveEvents.event, (m: LiveEventMessage) => liveEvents.push(m));
    feed.on(LiveEvents.progress, (m: LiveProgressMessage) => progress.push(m));
    await new Promise<void>((resolve) => feed.on('connect', () => resolve()));
    const ack = (await feed.emitWithAck(LiveEvents.subscribe, { sessionId: id })) as LiveSubscribeAck;
    expect(ack).toMatchObject({ ok: true, sessionId: id });

    // Kill one agent once the session is well under way; follow the summary while it runs (the live fold).
    // The live feed's progress, not a REST poll: on a loaded machine a poll can answer after the session ended.
    await waitFor('40 samples done', async () => (progress.some((p) => p.samplesDone >= 40) ? true : undefined), 120_000);
    const killed = agents[KILLED_VIEW];
    killed.child.kill('SIGKILL');
    await killed.exited;
    const atKill = Math.max(...progress.map((p) => p.samplesDone));
    if (atKill >= 171) throw new Error('the session finished before the agent was killed: nothing was left to miss');
    const killedId = byView.get(KILLED_VIEW)!;
    const done = await waitForSessionCompleted(op, api!, id, 180_000);
    expect(done.samplesDone).toBe(171);
    await waitFor('the final progress message', async () => (progress.some((p) => p.status === 'completed' && p.samplesDone === 171) ? true : undefined));
    feed.close();

    const events = await readSessionEvents(op, api!, id);
    // Live messages carry their events' log checkpoints, so a client that dropped off catches up over REST.
    const byId = new Map(events.map((e) => [e.eventId, e]));
    expect(liveEvents.length).toBeGreaterThan(1000);
    for (const m of liveEvents) expect(byId.get(m.event.eventId)?.checkpoint).toBe(m.checkpoint);
    const cut = liveEvents[Math.floor(liveEvents.length / 2)];
    const rest = await call<SessionEventsPage>('GET', `/api/sessions/${id}/events?limit=1000&after=${cut.checkpoint}`);
    const afterCut = events.slice(events.findIndex((e) => e.eventId === cut.event.eventId) + 1);
    expect(rest.events.map((e) => e.eventId)).toEqual(afterCut.slice(0, 1000).map((e) => e.eventId));

    const of = <T extends StoredEvent['type']>(t: T) => events.filter((e): e is Extract<StoredEvent, { type: T }> => e.type === t);
    expect(of('SampleStarted')).toHaveLength(171);
    expect(of('SessionCompleted')).toHaveLength(1);

    // Every sample has, for the killed device, either its scores or a DeviceMissed; after the kill, only misses.
    const answered = new Set(sectionsIn(events).filter((s) => s.tier === 'device' && s.node === killedId).map((s) => s.sampleIndex));
    const missed = of('DeviceMissed').filter((e) => e.data.deviceId === killedId);
    const missedScores = new Set(missed.filter((e) => e.data.stage === 'scores').map((e) => e.data.sampleIndex));
    expect(missedScores.size).toBeGreaterThan(0);
    for (let i = 0; i < 171; i++) expect(answered.has(i) !== missedScores.has(i)).toBe(true);
    const lastAnswered = Math.max(...answered);
    for (const i of missedScores) {
      if (i <= lastAnswered) continue;
      const miss = missed.find((m) => m.data.sampleIndex === i);
      // A view its camera did not capture is a skipped capture, alive or not (it may fall between the last answer and the kill).
      if (miss?.data.reason === 'skipped') expect(miss.data.detail).toMatch(/was not captured/);
      else expect(miss?.data.reason).toMatch(/disconnected|timeout/);
    }
    expect(Math.max(...missedScores)).toBe(170);

    // Counted link messages equal libs/ddnn's byte accounting for the same decisions.
    // The API shows no server paths: read the checkpoint it was started with.
    const manifest = await readCheckpointManifest(e2eModelDir());
    const shapes = topologyShapes(parseTopology(manifest.topology), manifest.architecture.input as MapShape, manifest.classes.length);
    const device = { classes: manifest.classes.length, filters: shapes.deviceFeatures[2], pixels: shapes.deviceFeatures[0] * shapes.deviceFeatures[1] };
    const localExit = new Map(of('ExitDecided').filter((e) => e.data.tier === 'local').map((e) => [e.data.sampleIndex, e.data.exited]));
    const scored = new Set(sectionsIn(events).filter((s) => s.tier === 'device').map((s) => `${s.node}:${s.sampleIndex}`));
    const featuresMissed = new Set(of('DeviceMissed').filter((e) => e.data.stage === 'features').map((e) => `${e.data.deviceId}:${e.data.sampleIndex}`));
    let expected = 0;
    for (let i = 0; i < 171; i++) {
      for (const view of VIEWS) {
        const key = `${byView.get(view)}:${i}`;
        // A device whose features did not arrive sent its scores only, as for a local exit.
        expected += deviceSampleBytes(device, localExit.get(i)! || featuresMissed.has(key), scored.has(key));
      }
    }
    const messages = events.flatMap((e) => sampleTraffic(e)?.messages ?? []);
    expect(of('MessagesTransferred').length).toBe(171);
    const counted = messages.filter((m) => !m.shadow).reduce((s, m) => s + m.bytes, 0);
    expect(counted).toBe(expected);

    // The summary the API serves (folded to the head of the log) equals one rebuilt from the log in one pass.
    const live = (await call<SessionView>('GET', `/api/sessions/${id}`)).summary!;
    const rebuilt = events.reduce(foldSessionSummary, emptySessionSummary(id));
    expect(rebuilt).toEqual(live);
    expect(live).toMatchObject({ sessionId: id, status: 'completed', samplesStarted: 171, samplesDecided: 171, checkpoint: events[events.length - 1].checkpoint });
    expect(live.bytes.total).toBe(counted);
    // The persisted projection (session_summaries, kept by its subscription in the API) is the same fold: once
    // it has caught up it equals what the API served.
    const pool = new Pool({ connectionString: platform.databaseUrl, max: 1 });
    try {
      const projected = await waitFor('the projection to catch up', async () => {
        const p = await getSessionSummary(pool, id);
        return p && p.checkpoint === live.checkpoint ? p : undefined;
      });
      expect(projected).toEqual(live);
    } finally {
      await pool.end();
    }
    expect(live.devices[killedId].missed).toBeGreaterThan(0);
    process.stdout.write(
      `killed-device run: accuracy ${live.accuracy?.toFixed(4)}, local exits ${live.exits.local.exited}/171, ` +
        `${live.devices[killedId].missed} misses of the killed device, ${live.bytes.perSample?.toFixed(1)} B/sample\n`,
    );
  });
});
