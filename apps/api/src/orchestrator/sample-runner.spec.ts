import { sampleSections, sampleTraffic, type CreateSessionRequest, type EventCatalogue, type InferReply, type InferRequest, type MessageSizes, type NewEvent } from '@ddnn/contracts';
import { scoresToBytes, softmax as softmax32 } from '@ddnn/ddnn';
import { DeviceUnavailableError, MalformedReplyError } from '../devices/transport/device-transport';
import type { DeviceRequester, ServerSections } from './ports';
import { runSample, type SessionPlan } from './sample-runner';
import { failureOf, InvalidReplyError, nonFinitePath } from './sample-runner-replies';
import { runSession, type RunnerDeps } from './session-runner';

const softmax = (s: ArrayLike<number>) => Array.from(softmax32(s));
const sizes: MessageSizes = { scoresBytes: 12, featuresBytes: 128, rawBytes: 3072, edgeFeaturesBytes: 64 };
const devices = [0, 1, 2].map((v) => ({ deviceId: `dev-${v}`, view: v }));

function plan(over: Partial<SessionPlan> = {}): SessionPlan {
  return {
    sessionId: 's1',
    dataset: 'synth',
    topology: { devices },
    policy: { kind: 'entropy', thresholds: { local: 0.5 } },
    mode: 'production',
    deadlineMs: 100,
    messageSizes: sizes,
    ...over,
  };
}

/** Devices answering with fixed scores; `dead` ones never answer, `failing` ones refuse, `featureless` ones refuse features. */
function requester(scores: number[], opts: { dead?: string[]; failing?: string[]; featureless?: string[] } = {}): DeviceRequester & { calls: InferRequest[] } {
  const calls: InferRequest[] = [];
  return {
    calls,
    request: async (deviceId: string, req: InferRequest, timeoutMs: number): Promise<InferReply> => {
      calls.push(req);
      if (opts.dead?.includes(deviceId)) {
        await new Promise((r) => setTimeout(r, timeoutMs));
        throw new DeviceUnavailableError(deviceId, 'timeout');
      }
      if (opts.failing?.includes(deviceId)) return { ok: false, error: 'no such sample' };
      if (req.stage === 'features' && opts.featureless?.includes(deviceId)) return { ok: false, error: 'capture dropped' };
      if (req.stage === 'scores') return { ok: true, scores: scoresToBytes(Float32Array.from(scores)), latencyMs: 1 };
      return { ok: true, features: new Uint8Array(sizes.featuresBytes), latencyMs: 1 };
    },
  };
}

const confident = [10, 0, 0];
const unsure = [0.1, 0, 0.05];

function sections(cloud = [0.05, 0.05, 0.9]): ServerSections & { cloudInputs: Map<number | string, Uint8Array>[] } {
  const cloudInputs: Map<number | string, Uint8Array>[] = [];
  return {
    cloudInputs,
    local: (s) => softmax(Array.from({ length: 3 }, (_, c) => Math.max(...[...s.values()].map((p) => p[c])))),
    edgeViews: () => [0, 1, 2],
    edge: () => {
      throw new Error('no edge in this model');
    },
    cloud: async (f) => {
      cloudInputs.push(f);
      return { probabilities: cloud, latencyMs: 1 };
    },
  };
}

const ofType = <T extends NewEvent['type']>(events: NewEvent[], type: T): EventCatalogue[T][] =>
  events.filter((e) => e.type === type).map((e) => e.data as EventCatalogue[T]);
/** The sample's sections, from its SectionsEvaluated (one a stage). */
const sectionsOf = (events: NewEvent[]) => events.flatMap((e) => sampleSections(e)?.sections ?? []);
/** The sample's link messages, from its one MessagesTransferred. */
const messages = (events: NewEvent[]) => {
  expect(events.filter((e) => e.type === 'MessagesTransferred').length).toBeLessThanOrEqual(1);
  return events.flatMap((e) => sampleTraffic(e)?.messages ?? []);
};

describe('runSample', () => {
  it('exits locally when the aggregate is confident, sending only scores', async () => {
    const out = await runSample(plan(), { index: 3, sampleId: 'x3', label: 0 }, requester(confident), sections());
    expect(out.exit).toBe('local');
    expect(out.prediction).toBe(0);
    const bytes = messages(out.events);
    expect(bytes.map((b) => [b.from, b.to, b.kind, b.bytes, b.shadow])).toEqual(devices.map((d) => [d.deviceId, 'local', 'scores', 12, false]));
    expect(ofType(out.events, 'ExitDecided')).toEqual([expect.objectContaining({ tier: 'local', exited: true, shadow: false, threshold: 0.5 })]);
    expect(out.events[0]).toEqual({ type: 'SampleStarted', data: { sessionId: 's1', sampleIndex: 3, sampleId: 'x3', label: 0 } });
  });

  it('sends features on to the cloud when the local exit is unsure', async () => {
    const secs = sections();
    const out = await runSample(plan(), { index: 0, sampleId: 'x0', label: 2 }, requester(unsure), secs);
    expect(out.exit).toBe('cloud');
    expect(out.prediction).toBe(2);
    const features = messages(out.events).filter((b) => b.kind === 'features');
    expect(features.map((b) => [b.to, b.bytes, b.shadow])).toEqual(devices.map(() => ['cloud', 128, false]));
    expect(ofType(out.events, 'ExitDecided').map((d) => [d.tier, d.exited, d.shadow])).toEqual([
      ['local', false, false],
      ['cloud', true, false],
    ]);
  });

  it('in research mode evaluates the cloud for every sample, marking it shadow', async () => {
    const out = await runSample(plan({ mode: 'research' }), { index: 0, sampleId: 'x0', label: 0 }, requester(confident), sections());
    expect(out.exit).toBe('local');
    const features = messages(out.events).filter((b) => b.kind === 'features');
    expect(features).toHaveLength(3);
    expect(features.every((b) => b.shadow)).toBe(true);
    expect(sectionsOf(out.events).find((s) => s.tier === 'cloud')?.shadow).toBe(true);
    expect(ofType(out.events, 'ExitDecided').map((d) => [d.tier, d.exited, d.shadow])).toEqual([
      ['local', true, false],
      ['cloud', true, true],
    ]);
  });

  it('continues without a device that misses its deadline and logs DeviceMissed', async () => {
    const secs = sections();
    const out = await runSample(plan({ deadlineMs: 30 }), { index: 1, sampleId: 'x1', label: null }, requester(unsure, { dead: ['dev-1'] }), secs);
    expect(ofType(out.events, 'DeviceMissed')).toEqual([
      { sessionId: 's1', sampleIndex: 1, deviceId: 'dev-1', view: 1, stage: 'scores', deadlineMs: 30, reason: 'timeout', detail: 'device dev-1: timeout' },
    ]);
    expect(out.missed).toBe(1);
    expect([...secs.cloudInputs[0].keys()].sort()).toEqual([0, 2]);
    expect(messages(out.events).filter((b) => b.from === 'dev-1')).toEqual([]);
  });

  it('counts a refused request as an error miss', async () => {
    const out = await runSample(plan(), { index: 1, sampleId: 'x1', label: 1 }, requester(confident, { failing: ['dev-2'] }), sections());
    expect(ofType(out.events, 'DeviceMissed').map((m) => m.reason)).toEqual(['error']);
  });

  it('a skipped capture is a skipped miss with its reason; capture times reach the device sections', async () => {
    const live: DeviceRequester = {
      request: async (deviceId, req) => {
        if (deviceId === 'dev-1') return { ok: false, skipped: true, error: 'newest frame f.png is 4000 ms old (max 1000 ms)' };
        if (req.stage === 'scores') return { ok: true, scores: scoresToBytes(Float32Array.from(confident)), latencyMs: 1, capturedAt: 1_800_000_000_000 + deviceId.length };
        return { ok: true, features: new Uint8Array(sizes.featuresBytes), latencyMs: 1 };
      },
    };
    const out = await runSample(plan(), { index: 2, sampleId: 'x2', label: 0 }, live, sections());
    expect(ofType(out.events, 'DeviceMissed')).toEqual([
      expect.objectContaining({ deviceId: 'dev-1', stage: 'scores', reason: 'skipped', detail: 'newest frame f.png is 4000 ms old (max 1000 ms)' }),
    ]);
    const device = sectionsOf(out.events).filter((e) => e.tier === 'device');
    expect(device.map((e) => [e.node, e.capturedAt])).toEqual([
      ['dev-0', 1_800_000_000_005],
      ['dev-2', 1_800_000_000_005],
    ]);
    expect(sectionsOf(out.events).find((e) => e.tier === 'local')).not.toHaveProperty('capturedAt');
  });

  it('has no answer when every device is gone: no cloud guess from its biases alone, a SampleUnanswered', async () => {
    for (const mode of ['production', 'research'] as const) {
      const secs = sections();
      const out = await runSample(plan({ deadlineMs: 20, mode }), { index: 0, sampleId: 'x0', label: 2 }, requester(confident, { dead: ['dev-0', 'dev-1', 'dev-2'] }), secs);
      expect([out.exit, out.prediction]).toEqual([null, null]);
      expect(secs.cloudInputs).toHaveLength(0);
      expect(ofType(out.events, 'DeviceMissed')).toHaveLength(3);
      expect(out.events.map((e) => e.type)).toEqual(['SampleStarted', 'DeviceMissed', 'DeviceMissed', 'DeviceMissed', 'ExitDecided', 'SampleUnanswered']);
      expect(ofType(out.events, 'SampleUnanswered')).toEqual([{ sessionId: 's1', sampleIndex: 0, label: 2 }]);
    }
  });

  it('asks nothing of the edges or the cloud when no device delivered its features: unanswered, unless the local exit answered', async () => {
    const all = ['dev-0', 'dev-1', 'dev-2'];
    const edgeCalls: number[] = [];
    const topology = { devices: devices.map((d) => ({ ...d, edge: 'e1' })), edges: [{ name: 'e1', deviceId: null }] };
    const secs = { ...sections(), edge: () => (edgeCalls.push(1), { scores: Float32Array.from([0, 8, 0]), features: new Uint8Array(64) }) };
    for (const over of [{}, { topology, policy: { kind: 'entropy' as const, thresholds: { local: 0.5, edge: 0.5 } } }]) {
      const unsureOut = await runSample(plan(over), { index: 4, sampleId: 'x4', label: 1 }, requester(unsure, { featureless: all }), secs);
      expect([unsureOut.exit, unsureOut.prediction]).toEqual([null, null]);
      expect(ofType(unsureOut.events, 'DeviceMissed').map((m) => m.stage)).toEqual(['features', 'features', 'features']);
      expect(ofType(unsureOut.events, 'ExitDecided').map((c) => [c.tier, c.exited])).toEqual([['local', false]]);
      expect(unsureOut.events.map((e) => e.type).slice(-2)).toEqual(['MessagesTransferred', 'SampleUnanswered']);
      expect(messages(unsureOut.events).map((m) => m.kind)).toEqual(['scores', 'scores', 'scores']);
      // Research mode: the local exit answered live; the shadow stages past it have nothing to run on either.
      const sure = await runSample(plan({ ...over, mode: 'research' }), { index: 5, sampleId: 'x5', label: 0 }, requester(confident, { featureless: all }), secs);
      expect([sure.exit, sure.prediction]).toEqual(['local', 0]);
      expect(ofType(sure.events, 'SampleUnanswered')).toEqual([]);
      expect(ofType(sure.events, 'ExitDecided').map((c) => c.tier)).toEqual(['local']);
    }
    expect(secs.cloudInputs).toHaveLength(0);
    expect(edgeCalls).toEqual([]);
    // One device's features are enough for the cloud to answer from.
    const one = await runSample(plan(), { index: 6, sampleId: 'x6', label: 2 }, requester(unsure, { featureless: ['dev-0', 'dev-1'] }), secs);
    expect([one.exit, one.prediction]).toEqual(['cloud', 2]);
    expect([...secs.cloudInputs[0].keys()]).toEqual([2]);
  });

  it('routes features through a simulated edge and applies the edge threshold', async () => {
    const topology = { devices: devices.map((d) => ({ ...d, edge: 'e1' })), edges: [{ name: 'e1', deviceId: null }] };
    const secs = {
      ...sections(),
      edge: () => ({ scores: Float32Array.from([0, 8, 0]), features: new Uint8Array(64) }),
    };
    const out = await runSample(
      plan({ topology, policy: { kind: 'entropy', thresholds: { local: 0.1, edge: 0.5 } } }),
      { index: 0, sampleId: 'x0', label: 1 },
      requester(unsure),
      secs,
    );
    expect(out.exit).toBe('edge');
    expect(out.prediction).toBe(1);
    const features = messages(out.events).filter((b) => b.kind === 'features');
    expect(features.map((b) => b.to)).toEqual(['e1', 'e1', 'e1']);
    expect(secs.cloudInputs).toHaveLength(0);
  });
});


/** Healthy devices, except dev-1, which answers the given stage with `bad`. */
function liar(stage: InferRequest['stage'], bad: (req: InferRequest) => unknown): DeviceRequester {
  const healthy = requester(unsure);
  return {
    request: async (deviceId, req, timeoutMs) => (deviceId === 'dev-1' && req.stage === stage ? (bad(req) as InferReply) : healthy.request(deviceId, req, timeoutMs)),
  };
}

const everyNumberFinite = (events: NewEvent[]) => events.map((e) => nonFinitePath(e.data)).filter((p) => p !== null);

describe('runSample with malformed or implausible device answers', () => {
  const f32 = (xs: number[]) => scoresToBytes(Float32Array.from(xs));
  const cases: [string, InferRequest['stage'], (req: InferRequest) => unknown, RegExp][] = [
    ['scores of the wrong length', 'scores', () => ({ ok: true, scores: f32([1, 2]), latencyMs: 1 }), /scores has 8 bytes, the model's message has 12/],
    ['empty scores', 'scores', () => ({ ok: true, scores: new Uint8Array(0), latencyMs: 1 }), /scores has 0 bytes/],
    ['oversized scores', 'scores', () => ({ ok: true, scores: new Uint8Array(1 << 20), latencyMs: 1 }), /scores has 1048576 bytes/],
    ['scores that are not binary', 'scores', () => ({ ok: true, scores: 'not bytes', latencyMs: 1 }), /scores is not binary/],
    ['NaN scores', 'scores', () => ({ ok: true, scores: f32([0.1, NaN, 0]), latencyMs: 1 }), /scores\[1\] is NaN/],
    ['infinite scores', 'scores', () => ({ ok: true, scores: f32([Infinity, 0, 0]), latencyMs: 1 }), /scores\[0\] is Infinity/],
    ['a NaN latency', 'scores', () => ({ ok: true, scores: f32(unsure), latencyMs: NaN }), /latency NaN is not a finite number/],
    ['a negative latency', 'scores', () => ({ ok: true, scores: f32(unsure), latencyMs: -5 }), /latency -5 is not a finite number/],
    ['an absurd latency', 'scores', () => ({ ok: true, scores: f32(unsure), latencyMs: 1e308 }), /latency 1e\+308 ms is longer than the \d+ ms the request took/],
    ['features of the wrong size', 'features', () => ({ ok: true, features: new Uint8Array(127), latencyMs: 1 }), /features has 127 bytes, the model's message has 128/],
    ['oversized features', 'features', () => ({ ok: true, features: new Uint8Array(64 << 10), latencyMs: 1 }), /features has 65536 bytes/],
    ['an answer to another sample', 'scores', (req) => ({ ok: true, scores: f32(unsure), latencyMs: 1, sampleIndex: req.sampleIndex + 1 }), /answers sample 5, asked for sample 4/],
    ['features of another sample', 'features', () => ({ ok: true, features: new Uint8Array(128), latencyMs: 1, sampleIndex: 0 }), /answers sample 0, asked for sample 4/],
    ['a reply the transport found malformed', 'scores', () => Promise.reject(new MalformedReplyError('dev-1', 'scores: expected binary data')), /malformed reply/],
  ];

  it.each(cases)('%s: a DeviceMissed with reason invalid and a detail; the sample completes without it', async (_name, stage, bad, detail) => {
    const secs = sections();
    const out = await runSample(plan(), { index: 4, sampleId: 'x4', label: 2 }, liar(stage, bad), secs);
    expect(out.exit).toBe('cloud');
    expect(out.prediction).toBe(2);
    const missed = ofType(out.events, 'DeviceMissed');
    expect(missed).toEqual([expect.objectContaining({ deviceId: 'dev-1', stage, reason: 'invalid', detail: expect.stringMatching(detail) })]);
    expect(missed[0].detail!.length).toBeLessThanOrEqual(160);
    expect(everyNumberFinite(out.events)).toEqual([]);
    // What the bad device sent is neither evaluated nor counted; the other devices' answers are.
    expect(sectionsOf(out.events).filter((e) => e.node === 'dev-1')).toHaveLength(stage === 'scores' ? 0 : 1);
    expect(messages(out.events).filter((b) => b.from === 'dev-1' && b.kind === stage)).toEqual([]);
    expect([...secs.cloudInputs[0].keys()].sort()).toEqual([0, 2]);
  });

  it('an edge node answering with features of the wrong size is an invalid miss, and the cloud answers without it', async () => {
    const topology = { devices: devices.map((d) => ({ ...d, edge: 'e1' })), edges: [{ name: 'e1', deviceId: 'edge-node' }] };
    const healthy = requester(unsure);
    const edgeLiar: DeviceRequester = {
      request: async (deviceId, req, timeoutMs) =>
        deviceId === 'edge-node' ? { ok: true, scores: f32([0, 8, 0]), features: new Uint8Array(65), latencyMs: 1 } : healthy.request(deviceId, req, timeoutMs),
    };
    const secs = sections();
    const out = await runSample(plan({ topology, policy: { kind: 'entropy', thresholds: { local: 0.1, edge: 0.5 } } }), { index: 0, sampleId: 'x0', label: 2 }, edgeLiar, secs);
    expect(ofType(out.events, 'DeviceMissed')).toEqual([
      expect.objectContaining({ deviceId: 'edge-node', view: -1, reason: 'invalid', detail: expect.stringMatching(/features has 65 bytes, the model's message has 64/) }),
    ]);
    expect(out.exit).toBe('cloud');
    expect(secs.cloudInputs[0].size).toBe(0);
    expect(ofType(out.events, 'ExitDecided').map((d) => d.tier)).toEqual(['local', 'cloud']);
    expect(everyNumberFinite(out.events)).toEqual([]);
  });

  it('a session with a device answering garbage to every sample completes, every sample with one live exit', async () => {
    const appended: NewEvent[][] = [];
    const finished: unknown[][] = [];
    const spec: CreateSessionRequest = {
      modelId: 'm',
      dataset: 'synth',
      split: 'test',
      topology: { devices },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } },
      mode: 'research',
      deadlineMs: 100,
    };
    const garbage = [
      () => ({ ok: true, scores: f32([NaN, NaN, NaN]), latencyMs: 1 }),
      () => ({ ok: true, scores: new Uint8Array(3), latencyMs: 1 }),
      () => ({ ok: true, scores: f32(confident), latencyMs: Infinity }),
    ];
    let n = 0;
    const deps: RunnerDeps = {
      requester: liar('scores', () => garbage[n++ % garbage.length]()),
      loadModel: async () => ({ modelId: 'm', classes: ['a', 'b', 'c'], deviceViews: [0, 1, 2], edges: [], messageSizes: sizes, sections: sections() }),
      loadSamples: async () => ({ classes: ['a', 'b', 'c'], views: 3, samples: Array.from({ length: 12 }, (_, index) => ({ index, sampleId: `s${index}`, label: index % 3 })) }),
      deploy: async () => undefined,
      sink: () => ({ append: async (e) => void appended.push(e) }),
      logged: async () => ({ started: false, samples: new Set<number>() }),
      setProgress: async () => undefined,
      markRunning: async () => undefined,
      shouldStop: async () => null,
      finish: async (...args) => void finished.push(args),
      connectedDevices: async () => devices.map((d) => ({ deviceId: d.deviceId, connectionId: d.deviceId })),
      deviceWaitMs: 0,
      window: 4,
    };
    const stats = await runSession('s1', spec, deps);
    expect(stats.status).toBe('completed');
    expect(finished.map((f) => f[1])).toEqual(['completed']);
    const events = appended.flat();
    const answers = ofType(events, 'ExitDecided').filter((d) => !d.shadow && d.exited);
    expect(answers.map((d) => d.sampleIndex).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const missed = ofType(events, 'DeviceMissed');
    expect(missed).toHaveLength(12);
    expect(missed.every((m) => m.deviceId === 'dev-1' && m.reason === 'invalid')).toBe(true);
    expect(everyNumberFinite(events)).toEqual([]);
  });
});

describe('failureOf', () => {
  it('tells device failures apart by type, never by message text', () => {
    expect(failureOf(new DeviceUnavailableError('d', 'timeout')).reason).toBe('timeout');
    expect(failureOf(new DeviceUnavailableError('d', 'not-connected')).reason).toBe('disconnected');
    expect(failureOf(new DeviceUnavailableError('d', 'disconnected')).reason).toBe('disconnected');
    expect(failureOf(new MalformedReplyError('d', 'x')).reason).toBe('invalid');
    expect(failureOf(new InvalidReplyError('scores has 0 bytes')).reason).toBe('invalid');
    // A message that merely mentions a timeout is not one.
    expect(failureOf(new Error('request timed out: disconnected')).reason).toBe('error');
    expect(failureOf(new Error('x'.repeat(1000))).detail.length).toBeLessThanOrEqual(160);
  });
});

describe('runSample through the exit core', () => {
  it('logs bytes from the model message sizes and research-mode edge work as shadow', async () => {
    const topology = { devices: devices.map((d) => ({ ...d, edge: 'e1' })), edges: [{ name: 'e1', deviceId: null }] };
    const secs = { ...sections(), edge: () => ({ scores: Float32Array.from([0, 8, 0]), features: new Uint8Array(64) }) };
    const out = await runSample(
      plan({ topology, mode: 'research', policy: { kind: 'entropy', thresholds: { local: 0.5, edge: 0.5 } } }),
      { index: 0, sampleId: 'x0', label: 0 },
      requester(confident),
      secs,
    );
    expect(out.exit).toBe('local');
    expect(ofType(out.events, 'ExitDecided').map((d) => [d.tier, d.exited, d.shadow, d.policy])).toEqual([
      ['local', true, false, 'entropy T=0.5/0.5'],
      ['edge', true, true, 'entropy T=0.5/0.5'],
      ['cloud', true, true, 'entropy T=0.5/0.5'],
    ]);
    expect(messages(out.events).map((b) => `${b.from}->${b.to}:${b.kind}:${b.bytes}:${b.shadow}`)).toEqual([
      ...devices.map((d) => `${d.deviceId}->local:scores:12:false`),
      ...devices.map((d) => `${d.deviceId}->e1:features:128:true`),
      'e1->cloud:features:64:true',
    ]);
    // Each stage's sections in one event, ahead of the stage's exit check: the devices' and the local aggregate's,
    // then the edge's, then the cloud's.
    expect(out.events.map((e) => e.type)).toEqual([
      'SampleStarted',
      'SectionsEvaluated',
      'ExitDecided',
      'SectionsEvaluated',
      'ExitDecided',
      'SectionsEvaluated',
      'ExitDecided',
      'MessagesTransferred',
    ]);
    expect(out.events.flatMap((e) => (e.type === 'SectionsEvaluated' ? [e.data.sections.map((x) => `${x.tier}:${x.node}`)] : []))).toEqual([
      [...devices.map((d) => `device:${d.deviceId}`), 'local:local'],
      ['edge:e1'],
      ['cloud:cloud'],
    ]);
  });
});

describe('nonFinitePath', () => {
  it('names the first number that is not finite, however deep, and null when every number is finite', () => {
    expect(nonFinitePath({ a: 1, b: [0.5, { c: [1, 2, Infinity] }], d: NaN })).toBe('data.b[1].c[2]');
    expect(nonFinitePath({ probabilities: [0.2, NaN, 0.3] })).toBe('data.probabilities[1]');
    expect(nonFinitePath({ entropy: -Infinity }, 'payload')).toBe('payload.entropy');
    expect(nonFinitePath({ a: [1, 2], b: { c: 'NaN', d: null, e: true }, f: [] })).toBeNull();
  });
});
