import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import {
  LIVE_NAMESPACE,
  LiveEvents,
  type LiveEventMessage,
  type LiveProgressMessage,
  type LiveSubscribeAck,
  type SessionEventsPage,
  type SimulationView,
  type StoredEvent,
  type StreamView,
} from '@ddnn/contracts';
import { repoRoot, waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';

jest.setTimeout(240_000);

/** Checkpoints `<xid>:<position>` in log order. */
const after = (a: string, b: string) => {
  const [ax, ap] = a.split(':').map(BigInt);
  const [bx, bp] = b.split(':').map(BigInt);
  return ax > bx || (ax === bx && ap > bp);
};

describe('/live follows a stream (real Postgres, simulated devices, socket.io client)', () => {
  let api: TestApi;
  let id: string;
  let feed: Socket;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN, DDNN_SESSION_POLL_MS: '200', DDNN_CAPTURE_TOLERANCE_MS: '10000' });
    expect((await call(api, 'POST', '/models', ADMIN, { path: path.join(repoRoot, 'models', 'default'), id: 'default' })).status).toBe(201);
    const sim = (await call<SimulationView>(api, 'POST', '/simulations', ADMIN, { devices: 2, source: 'scene', scene: { seed: 3 } })).body;
    const created = await call<{ id: string }>(api, 'POST', '/streams', ADMIN, {
      modelId: 'default',
      topology: { devices: sim.devices.map((d) => ({ deviceId: d.deviceId, view: d.view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } },
      rate: 5,
      deadlineMs: 5000,
      simulationId: sim.id,
    });
    expect(created.status).toBe(201);
    id = created.body.id;
  });
  afterAll(async () => {
    feed?.close();
    await api?.close();
  }, 60_000);

  it('delivers every event of the stream logged after the subscription, once, in log order, with progress, labels included', async () => {
    feed = io(`${api.url}${LIVE_NAMESPACE}`, { auth: { token: ADMIN }, transports: ['websocket'] });
    const live: LiveEventMessage[] = [];
    const progress: LiveProgressMessage[] = [];
    feed.on(LiveEvents.event, (m: LiveEventMessage) => live.push(m));
    feed.on(LiveEvents.progress, (m: LiveProgressMessage) => progress.push(m));
    await new Promise<void>((resolve, reject) => {
      feed.once('connect', () => resolve());
      feed.once('connect_error', reject);
    });

    // A stream is not a session: subscribing to it as one (the default kind) is refused, and so is a bad kind.
    expect(await feed.emitWithAck(LiveEvents.subscribe, { sessionId: id })).toEqual({ ok: false, error: `no session ${id}` });
    expect(((await feed.emitWithAck(LiveEvents.subscribe, { sessionId: id, kind: 'camera' })) as LiveSubscribeAck).ok).toBe(false);
    const ack = (await feed.emitWithAck(LiveEvents.subscribe, { sessionId: id, kind: 'stream' })) as LiveSubscribeAck;
    expect(ack).toMatchObject({ ok: true, sessionId: id, kind: 'stream' });
    const from = ack.ok ? ack.checkpoint : null;

    await waitFor('10 decided samples over /live', () => live.filter((m) => m.event.type === 'ExitDecided' && m.event.data.exited).length >= 10, 180_000, 100);
    const decided = live.find((m) => m.event.type === 'ExitDecided' && m.event.data.exited && !m.event.data.shadow)?.event;
    if (decided?.type !== 'ExitDecided') throw new Error('no decision over /live');
    expect((await call(api, 'POST', `/streams/${id}/labels`, ADMIN, [{ sampleIndex: decided.data.sampleIndex, label: decided.data.prediction }])).status).toBe(200);
    await waitFor('the label over /live', () => live.some((m) => m.event.type === 'SampleLabelled'), 30_000, 100);
    await waitFor('progress with the label', () => progress.some((p) => p.labelled === 1 && p.accuracy === 1), 30_000, 100);

    expect((await call(api, 'POST', `/streams/${id}/stop`, ADMIN)).status).toBe(200);
    await waitFor('the end of the stream over /live', () => live.some((m) => m.event.type === 'SessionCompleted'), 60_000, 100);
    await waitFor('the stopped progress', () => progress.some((p) => p.status === 'stopped'), 60_000, 100);

    // The log after the subscription's checkpoint, over REST: exactly what /live delivered.
    const logged: StoredEvent[] = [];
    for (let cursor = from; ; ) {
      const page = (await call<SessionEventsPage>(api, 'GET', `/streams/${id}/events?limit=1000${cursor ? `&after=${cursor}` : ''}`, ADMIN)).body;
      logged.push(...page.events);
      if (!page.hasMore || !page.checkpoint) break;
      cursor = page.checkpoint;
    }
    // (An event committed while the subscription was being acknowledged may come too: it is at or before the ack's checkpoint.)
    const afterAck = live.filter((m) => from === null || after(m.checkpoint, from));
    expect(afterAck.map((m) => m.event.eventId)).toEqual(logged.map((e) => e.eventId));
    expect(new Set(live.map((m) => m.event.eventId)).size).toBe(live.length);
    for (const m of live) expect([m.sessionId, m.kind, m.checkpoint]).toEqual([id, 'stream', m.event.checkpoint]);
    for (let k = 1; k < live.length; k++) expect(after(live[k].checkpoint, live[k - 1].checkpoint)).toBe(true);

    // Progress is the stream's summary fold: its last message agrees with GET /streams/:id.
    const view = (await call<StreamView>(api, 'GET', `/streams/${id}`, ADMIN)).body;
    const last = progress[progress.length - 1];
    expect(last).toMatchObject({ sessionId: id, kind: 'stream', status: 'stopped', sampleCount: null, labelled: 1, accuracy: 1 });
    expect([last.samplesDone, last.samplesDecided]).toEqual([view.summary?.samplesStarted, view.summary?.samplesDecided]);
  });
});
