import type { EventCatalogue, InferReply, InferRequest, MessageSizes, NewEvent } from '@ddnn/contracts';
import { scoresToBytes, softmax } from './exit-math';
import type { DeviceRequester, ServerSections } from './ports';
import { classifyFailure, runSample, type SessionPlan } from './sample-runner';

const sizes: MessageSizes = { scoresBytes: 12, featuresBytes: 128, rawBytes: 3072 };
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

/** Devices answering with fixed scores; `dead` ones never answer, `failing` ones refuse. */
function requester(scores: number[], opts: { dead?: string[]; failing?: string[] } = {}): DeviceRequester & { calls: InferRequest[] } {
  const calls: InferRequest[] = [];
  return {
    calls,
    request: async (deviceId: string, req: InferRequest, timeoutMs: number): Promise<InferReply> => {
      calls.push(req);
      if (opts.dead?.includes(deviceId)) {
        await new Promise((r) => setTimeout(r, timeoutMs));
        throw new Error(`request to ${deviceId} timed out`);
      }
      if (opts.failing?.includes(deviceId)) return { ok: false, error: 'no such sample' };
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
    cloud: (f) => {
      cloudInputs.push(f);
      return cloud;
    },
  };
}

const ofType = <T extends NewEvent['type']>(events: NewEvent[], type: T): EventCatalogue[T][] =>
  events.filter((e) => e.type === type).map((e) => e.data as EventCatalogue[T]);

describe('runSample', () => {
  it('exits locally when the aggregate is confident, sending only scores', async () => {
    const out = await runSample(plan(), { index: 3, sampleId: 'x3', label: 0 }, requester(confident), sections());
    expect(out.exit).toBe('local');
    expect(out.prediction).toBe(0);
    const bytes = ofType(out.events, 'BytesTransferred');
    expect(bytes.map((b) => [b.from, b.to, b.kind, b.bytes, b.shadow])).toEqual(devices.map((d) => [d.deviceId, 'local', 'scores', 12, false]));
    expect(ofType(out.events, 'ExitDecided')).toEqual([expect.objectContaining({ tier: 'local', exited: true, shadow: false, threshold: 0.5 })]);
    expect(out.events[0]).toEqual({ type: 'SampleStarted', data: { sessionId: 's1', sampleIndex: 3, sampleId: 'x3', label: 0 } });
  });

  it('sends features on to the cloud when the local exit is unsure', async () => {
    const secs = sections();
    const out = await runSample(plan(), { index: 0, sampleId: 'x0', label: 2 }, requester(unsure), secs);
    expect(out.exit).toBe('cloud');
    expect(out.prediction).toBe(2);
    const features = ofType(out.events, 'BytesTransferred').filter((b) => b.kind === 'features');
    expect(features.map((b) => [b.to, b.bytes, b.shadow])).toEqual(devices.map(() => ['cloud', 128, false]));
    expect(ofType(out.events, 'ExitDecided').map((d) => [d.tier, d.exited, d.shadow])).toEqual([
      ['local', false, false],
      ['cloud', true, false],
    ]);
  });

  it('in research mode evaluates the cloud for every sample, marking it shadow', async () => {
    const out = await runSample(plan({ mode: 'research' }), { index: 0, sampleId: 'x0', label: 0 }, requester(confident), sections());
    expect(out.exit).toBe('local');
    const features = ofType(out.events, 'BytesTransferred').filter((b) => b.kind === 'features');
    expect(features).toHaveLength(3);
    expect(features.every((b) => b.shadow)).toBe(true);
    expect(ofType(out.events, 'SectionEvaluated').find((s) => s.tier === 'cloud')?.shadow).toBe(true);
    expect(ofType(out.events, 'ExitDecided').map((d) => [d.tier, d.exited, d.shadow])).toEqual([
      ['local', true, false],
      ['cloud', true, true],
    ]);
  });

  it('continues without a device that misses its deadline and logs DeviceMissed', async () => {
    const secs = sections();
    const out = await runSample(plan({ deadlineMs: 30 }), { index: 1, sampleId: 'x1', label: null }, requester(unsure, { dead: ['dev-1'] }), secs);
    expect(ofType(out.events, 'DeviceMissed')).toEqual([
      { sessionId: 's1', sampleIndex: 1, deviceId: 'dev-1', view: 1, stage: 'scores', deadlineMs: 30, reason: 'timeout' },
    ]);
    expect(out.missed).toBe(1);
    expect([...secs.cloudInputs[0].keys()].sort()).toEqual([0, 2]);
    expect(ofType(out.events, 'BytesTransferred').filter((b) => b.from === 'dev-1')).toEqual([]);
  });

  it('counts a refused request as an error miss', async () => {
    const out = await runSample(plan(), { index: 1, sampleId: 'x1', label: 1 }, requester(confident, { failing: ['dev-2'] }), sections());
    expect(ofType(out.events, 'DeviceMissed').map((m) => m.reason)).toEqual(['error']);
  });

  it('goes to the cloud with nothing when every device is gone', async () => {
    const secs = sections();
    const out = await runSample(plan({ deadlineMs: 20 }), { index: 0, sampleId: 'x0', label: 2 }, requester(confident, { dead: ['dev-0', 'dev-1', 'dev-2'] }), secs);
    expect(out.exit).toBe('cloud');
    expect(secs.cloudInputs[0].size).toBe(0);
    expect(ofType(out.events, 'DeviceMissed')).toHaveLength(3);
  });

  it('routes features through a simulated edge and applies the edge threshold', async () => {
    const topology = { devices: devices.map((d) => ({ ...d, edge: 'e1' })), edges: [{ name: 'e1', deviceId: null }] };
    const secs = {
      ...sections(),
      edge: (_name: string, f: Map<number, Uint8Array>) => ({ scores: Float32Array.from([0, 8, 0]), features: new Uint8Array(f.size * 16) }),
    };
    const out = await runSample(
      plan({ topology, policy: { kind: 'entropy', thresholds: { local: 0.1, edge: 0.5 } } }),
      { index: 0, sampleId: 'x0', label: 1 },
      requester(unsure),
      secs,
    );
    expect(out.exit).toBe('edge');
    expect(out.prediction).toBe(1);
    const features = ofType(out.events, 'BytesTransferred').filter((b) => b.kind === 'features');
    expect(features.map((b) => b.to)).toEqual(['e1', 'e1', 'e1']);
    expect(secs.cloudInputs).toHaveLength(0);
  });
});

describe('classifyFailure', () => {
  it('maps the transport reasons onto DeviceMissed reasons', () => {
    const err = (reason: string) => Object.assign(new Error(`device d: ${reason}`), { name: 'DeviceUnavailableError', reason });
    expect(classifyFailure(err('timeout')).reason).toBe('timeout');
    expect(classifyFailure(err('not-connected')).reason).toBe('disconnected');
    expect(classifyFailure(err('disconnected')).reason).toBe('disconnected');
    expect(classifyFailure(new Error('boom')).reason).toBe('error');
  });
});
