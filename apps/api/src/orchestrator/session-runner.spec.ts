import {
  emptySessionSummary,
  foldSessionSummary,
  type CreateSessionRequest,
  type InferReply,
  type InferRequest,
  type NewEvent,
  type StoredEvent,
} from '@ddnn/contracts';
import { scoresToBytes, softmax as softmax32 } from '@ddnn/ddnn';
import { FencedAppendError } from '@ddnn/events';
import { runSession, type RunnerDeps, type SessionModel } from './session-runner';

const spec: CreateSessionRequest = {
  modelId: 'm',
  dataset: 'd',
  split: 'test',
  topology: { devices: [0, 1].map((v) => ({ deviceId: `dev-${v}`, view: v })) },
  policy: { kind: 'entropy', thresholds: { local: 0.5 } },
  mode: 'production',
  deadlineMs: 100,
};

const model: SessionModel = {
  modelId: 'm',
  classes: ['a', 'b', 'c'],
  deviceViews: [0, 1],
  edges: [],
  messageSizes: { scoresBytes: 12, featuresBytes: 128, rawBytes: 3072 },
  sections: {
    local: (s) => Array.from(softmax32([...s.values()][0])),
    edgeViews: () => [],
    edge: () => {
      throw new Error('no edge');
    },
    cloud: async () => ({ probabilities: [0.01, 0.01, 0.98], latencyMs: 1 }),
  },
};

/** Devices connected now, each on its first connection (`#2` etc. for a device that reconnected). */
const on = (ids: string[], connection = (id: string) => `${id}#1`) => ids.map((deviceId) => ({ deviceId, connectionId: connection(deviceId) }));

function fakeDeps(over: Partial<RunnerDeps> = {}, samples = 10) {
  const appended: NewEvent[][] = [];
  const finished: unknown[][] = [];
  const deps: RunnerDeps = {
    requester: {
      request: async (_id: string, req: InferRequest): Promise<InferReply> =>
        req.stage === 'scores'
          ? { ok: true, scores: scoresToBytes(Float32Array.from(req.sampleIndex % 2 ? [9, 0, 0] : [0.1, 0, 0])), latencyMs: 1 }
          : { ok: true, features: new Uint8Array(128), latencyMs: 1 },
    },
    loadModel: async () => model,
    loadSamples: async () => ({
      classes: ['a', 'b', 'c'],
      views: 2,
      samples: Array.from({ length: samples }, (_, index) => ({ index, sampleId: `s${index}`, label: index % 3 })),
    }),
    deploy: async () => undefined,
    sink: () => ({ append: async (e) => void appended.push(e) }),
    logged: async () => ({ started: false, samples: new Set<number>() }),
    setProgress: async () => undefined,
    markRunning: async () => undefined,
    shouldStop: async () => null,
    finish: async (...args) => void finished.push(args),
    connectedDevices: async () => on(['dev-0', 'dev-1']),
    deviceWaitMs: 1000,
    window: 4,
    ...over,
  };
  return { deps, appended, finished };
}

const types = (batches: NewEvent[][]) => batches.flat().map((e) => e.type);

describe('runSession', () => {
  it('logs SessionStarted, every sample whole, then SessionCompleted', async () => {
    const { deps, appended, finished } = fakeDeps();
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('completed');
    expect(stats.samples).toBe(10);
    expect(appended[0].map((e) => e.type)).toEqual(['SessionStarted']);
    expect(appended.at(-1)!.map((e) => e.type)).toEqual(['SessionCompleted']);
    const sampleBatches = appended.slice(1, -1);
    expect(sampleBatches).toHaveLength(10);
    for (const b of sampleBatches) expect(b[0].type).toBe('SampleStarted');
    expect(types(appended).filter((t) => t === 'ExitDecided').length).toBe(5 * 1 + 5 * 2);
    expect(finished[0].slice(0, 3)).toEqual(['s1', 'completed', 10]);
  });

  it('resumes after the samples a previous owner logged, without a second SessionStarted', async () => {
    const { deps, appended } = fakeDeps({ logged: async () => ({ started: true, samples: new Set([0, 1, 2, 3]) }) });
    const stats = await runSession('s1', spec, deps);
    expect(stats.samples).toBe(6);
    expect(types(appended)).not.toContain('SessionStarted');
    const indices = appended.flat().filter((e) => e.type === 'SampleStarted').map((e) => (e.data as { sampleIndex: number }).sampleIndex);
    expect(indices.sort()).toEqual([4, 5, 6, 7, 8, 9]);
    const completed = appended.flat().find((e) => e.type === 'SessionCompleted')!.data as { samples: number };
    expect(completed.samples).toBe(10);
  });

  it('stops when an operator asks and logs SessionAborted', async () => {
    let polls = 0;
    const slow = fakeDeps({ shouldStop: async () => (++polls >= 2 ? 'stop' : null), window: 1 }, 1000);
    slow.deps.requester = {
      request: async (id, req, t) => {
        await new Promise((r) => setTimeout(r, 5));
        return fakeDeps().deps.requester.request(id, req, t);
      },
    };
    const stats = await runSession('s1', spec, slow.deps);
    expect(stats.status).toBe('stopped');
    expect(stats.samples).toBeLessThan(1000);
    expect(types(slow.appended).at(-1)).toBe('SessionAborted');
    expect(slow.finished[0][1]).toBe('stopped');
  });

  it('leaves a session it lost untouched for the next owner', async () => {
    const { deps, appended, finished } = fakeDeps({ shouldStop: async () => 'lost', window: 1 }, 1000);
    deps.requester = { request: async (id, req, t) => (await new Promise((r) => setTimeout(r, 5)), fakeDeps().deps.requester.request(id, req, t)) };
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('lost');
    expect(finished).toEqual([]);
    expect(types(appended)).not.toContain('SessionAborted');
    expect(types(appended)).not.toContain('SessionCompleted');
  });

  it('ends as lost, neither failed nor completed, once its fence refuses a sample (another node took it over), and says how many it dropped', async () => {
    const logs: string[] = [];
    const { deps, appended, finished } = fakeDeps({ log: (m) => logs.push(m) }, 50);
    deps.sink = () => ({
      append: async (events) => {
        if (events[0].type === 'SampleStarted' && (events[0].data as { sampleIndex: number }).sampleIndex >= 7) throw new FencedAppendError('session-s1', 1, 2);
        appended.push(events);
      },
    });
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('lost');
    expect(stats.error).toBeUndefined();
    expect(finished).toEqual([]);
    expect(types(appended)).not.toContain('SessionAborted');
    expect(types(appended)).not.toContain('SessionCompleted');
    expect(stats.samples).toBe(7);
    expect(logs.filter((m) => /^session s1: \d+ sample\(s\) dropped: another node owns the run now/.test(m))).toHaveLength(1);
  });

  it('fails with a clear reason when the topology does not fit the model', async () => {
    const { deps, appended, finished } = fakeDeps();
    const bad = { ...spec, topology: { devices: [{ deviceId: 'x', view: 7 }] } };
    const stats = await runSession('s1', bad, deps);
    expect(stats.status).toBe('failed');
    expect(stats.error).toMatch(/view 7 of device x has no section in model m/);
    expect(types(appended)).toEqual(['SessionAborted']);
    expect(finished[0][1]).toBe('failed');
    // Taken over from a node that died: its cameras are on their way back, and it goes on without them meanwhile.
    const resumed = fakeDeps({ connectedDevices: async () => [], deviceWaitMs: 50, logged: async () => ({ started: true, samples: new Set([0, 1]) }) });
    expect((await runSession('s2', spec, resumed.deps)).status).toBe('completed');
  });

  it('fails the session when the log refuses a sample, without counting it', async () => {
    let calls = 0;
    const { deps, finished } = fakeDeps({}, 50);
    deps.sink = () => ({
      append: async (events) => {
        calls++;
        if (events[0].type === 'SampleStarted' && (events[0].data as { sampleIndex: number }).sampleIndex === 7) throw new Error('disk full');
      },
    });
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('failed');
    expect(stats.error).toBe('disk full');
    expect(stats.samples).toBeLessThan(50);
    expect(finished[0][1]).toBe('failed');
    expect(calls).toBeGreaterThan(1);
  });

  it('a resumed session waits for its devices, then records the ones it runs without (event and summary)', async () => {
    const deploys: number[] = [];
    const t0 = performance.now();
    const { deps, appended } = fakeDeps({
      logged: async () => ({ started: true, samples: new Set([0, 1, 2]) }),
      connectedDevices: async () => on(['dev-0']),
      deviceWaitMs: 300,
      deploy: async () => void deploys.push(performance.now() - t0),
    });
    deps.requester = {
      request: async (id, req, t) => {
        if (id === 'dev-1') throw Object.assign(new Error('device dev-1: not-connected'), { reason: 'not-connected' });
        return fakeDeps().deps.requester.request(id, req, t);
      },
    };
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('completed');
    expect(deploys[0]).toBeGreaterThanOrEqual(290);
    const all = appended.flat();
    expect(all[0]).toEqual({ type: 'SessionDevicesAbsent', data: { sessionId: 's1', deviceIds: ['dev-1'], waitedMs: expect.any(Number), fromSample: 3, resumed: true } });
    expect((all[0].data as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(300);
    expect(all.filter((e) => e.type === 'DeviceMissed')).toHaveLength(7);
    let summary = emptySessionSummary('s1');
    all.forEach((e, i) => (summary = foldSessionSummary(summary, { ...e, eventId: `e${i}`, streamId: 'session-s1', streamPosition: i + 1, globalPosition: String(i + 1), checkpoint: `0:${i + 1}`, schemaVersion: 1, metadata: {}, createdAt: new Date().toISOString() } as StoredEvent)));
    expect(summary.ranWithout).toEqual(['dev-1']);
  });

  it('asks a device that reconnected mid-run for no sample before its section is deployed again', async () => {
    // dev-1 restarts at sample 5: a new connection with no section, which answers scores only once one is deployed to it.
    let connection = 'dev-1#1';
    let installedOn: string | null = connection;
    const { deps, appended } = fakeDeps(
      {
        connectedDevices: async () => [{ deviceId: 'dev-0', connectionId: 'dev-0#1' }, { deviceId: 'dev-1', connectionId: connection }],
        connectionOf: (id) => (id === 'dev-1' ? connection : `${id}#1`),
        deploy: async () => void (installedOn = connection),
        window: 1,
      },
      20,
    );
    const answer = deps.requester.request.bind(deps.requester);
    deps.requester = {
      request: async (id, req, t) => {
        if (id === 'dev-0' && req.stage === 'scores' && req.sampleIndex === 5) connection = 'dev-1#2';
        if (id === 'dev-1' && req.stage === 'scores' && installedOn !== connection) return { ok: false, error: 'infer scores: no model section installed' };
        return answer(id, req, t);
      },
    };
    await runSession('s4', spec, deps);
    // The whole session runs well inside the runner's one-second look for returning devices: only the request's own
    // look redeployed it.
    expect(installedOn).toBe('dev-1#2');
    expect(appended.flat().filter((e) => e.type === 'DeviceMissed')).toEqual([]);
  });

  it('starts at once, with no absence recorded, when every device is there; a device back mid-run gets its section again', async () => {
    let connected = ['dev-0'];
    let deploys = 0;
    const { deps, appended } = fakeDeps({ connectedDevices: async () => on(connected), deviceWaitMs: 50, deploy: async () => void deploys++, window: 1 }, 150);
    // At least 1.5 s of samples: the runner looks for returning devices every second.
    deps.requester = { request: async (id, req, t) => (await new Promise((r) => setTimeout(r, 10)), fakeDeps().deps.requester.request(id, req, t)) };
    setTimeout(() => (connected = ['dev-0', 'dev-1']), 100);
    await runSession('s1', spec, deps);
    expect(types(appended).filter((t) => t === 'SessionDevicesAbsent')).toHaveLength(1);
    expect(deploys).toBe(2);

    // A device that reconnected (a restarted agent, on a new connection, before its old one was found dead) was
    // never away: its section is deployed again all the same.
    let reconnected = false;
    let redeploys = 0;
    const again = fakeDeps({ connectedDevices: async () => on(['dev-0', 'dev-1'], (id) => (id === 'dev-1' && reconnected ? `${id}#2` : `${id}#1`)), deploy: async () => void redeploys++, window: 1 }, 150);
    again.deps.requester = deps.requester;
    setTimeout(() => (reconnected = true), 100);
    await runSession('s3', spec, again.deps);
    expect(types(again.appended)).not.toContain('SessionDevicesAbsent');
    expect(redeploys).toBe(2);

    const full = fakeDeps({ deviceWaitMs: 60_000 });
    const t0 = performance.now();
    await runSession('s2', spec, full.deps);
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(types(full.appended)).not.toContain('SessionDevicesAbsent');
  }, 30_000);

  it('stops within a poll at a very low rate (it used to sleep until the next sample was due)', async () => {
    let stopAt = Infinity;
    const { deps, finished } = fakeDeps({ shouldStop: async () => (performance.now() >= stopAt ? 'stop' : null) }, 100);
    const run = runSession('s1', { ...spec, rate: 0.01 }, deps);
    await new Promise((r) => setTimeout(r, 300));
    stopAt = performance.now();
    const stats = await run;
    expect(stats.status).toBe('stopped');
    expect(performance.now() - stopAt).toBeLessThan(1000);
    expect(finished[0][1]).toBe('stopped');
  });

  it('fails, saying why, when not one of its cameras connected in the wait (it used to complete with every sample unanswered)', async () => {
    const { deps, appended, finished } = fakeDeps({ connectedDevices: async () => [], deviceWaitMs: 50 });
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('failed');
    expect(stats.error).toMatch(/none of its 2 end device\(s\) connected within 0 s \(DDNN_DEVICE_WAIT_MS\): nothing to run it on/);
    expect(types(appended)).toEqual(['SessionAborted']);
    expect(finished[0][1]).toBe('failed');
    // Taken over from a node that died: its cameras are on their way back, and it goes on without them meanwhile.
    const resumed = fakeDeps({ connectedDevices: async () => [], deviceWaitMs: 50, logged: async () => ({ started: true, samples: new Set([0, 1]) }) });
    expect((await runSession('s2', spec, resumed.deps)).status).toBe('completed');
  });

  it('lost while waiting for its devices, it writes nothing and leaves the session to the next owner', async () => {
    const { deps, appended, finished } = fakeDeps({ connectedDevices: async () => [], deviceWaitMs: 60_000, shouldStop: async () => 'lost' });
    const t0 = performance.now();
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('lost');
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(appended).toEqual([]);
    expect(finished).toEqual([]);
  });
});
