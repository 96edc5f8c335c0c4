import type {
  BytesTransferred,
  DeviceMissed,
  EntropyPolicySpec,
  ExitTier,
  InferReply,
  MessageSizes,
  NewEvent,
  SessionMode,
  SessionTopology,
} from '@ddnn/contracts';
import { argmax, normalizedEntropy, scoresFromBytes, softmax } from './exit-math';
import type { DeviceRequester, ServerSections } from './ports';

/** Everything a sample run needs to know about its session; plain data, so any node can rebuild it. */
export interface SessionPlan {
  sessionId: string;
  dataset: string;
  topology: SessionTopology;
  policy: EntropyPolicySpec;
  mode: SessionMode;
  deadlineMs: number;
  messageSizes: MessageSizes;
}

export interface SampleRef {
  index: number;
  sampleId: string;
  label: number | null;
}

/** Where the time of one sample went, for the session benchmark. */
export interface SampleTiming {
  /** Server-side sections (local aggregator, simulated edges, cloud). */
  serverModelMs: number;
  /** Compute the devices reported for their sections. */
  deviceModelMs: number;
  /** Waiting for device replies beyond what they computed (network, queues, sockets). */
  transportMs: number;
}

export interface SampleOutcome {
  events: NewEvent[];
  /** The exit that answered on the live path. */
  exit: ExitTier;
  prediction: number;
  missed: number;
  /** Why each miss happened (for the node's log; the event log keeps only the reason). */
  missDetails: { deviceId: string; detail: string }[];
  timing: SampleTiming;
}

type Failure = { reason: DeviceMissed['reason']; detail: string };

/** A device request with the session deadline; a late, failed or refused reply is a miss, never a throw. */
async function ask(
  requester: DeviceRequester,
  deviceId: string,
  req: Parameters<DeviceRequester['request']>[1],
  deadlineMs: number,
): Promise<{ reply: Extract<InferReply, { ok: true }>; elapsedMs: number } | Failure> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Failure>((resolve) => {
    // The transport enforces the deadline too; this guard keeps a sample from hanging if it does not.
    timer = setTimeout(() => resolve({ reason: 'timeout', detail: `no reply within ${deadlineMs} ms` }), deadlineMs + 50);
  });
  try {
    const result = await Promise.race([
      requester.request(deviceId, req, deadlineMs).then(
        (reply) => ({ reply }),
        (e: unknown) => classifyFailure(e),
      ),
      deadline,
    ]);
    if ('reason' in result) return result;
    if (!result.reply.ok) return { reason: 'error', detail: result.reply.error };
    return { reply: result.reply, elapsedMs: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** Maps a transport failure onto DeviceMissed reasons (DeviceUnavailableError's reason, else its message). */
export function classifyFailure(e: unknown): Failure {
  const reason = (e as { reason?: unknown } | null)?.reason;
  const detail = e instanceof Error ? e.message : String(e);
  if (reason === 'timeout') return { reason: 'timeout', detail };
  if (reason === 'disconnected' || reason === 'not-connected') return { reason: 'disconnected', detail };
  const name = e instanceof Error ? `${e.name} ${e.constructor.name}` : '';
  const message = e instanceof Error ? e.message : String(e);
  const text = `${name} ${message}`.toLowerCase();
  if (text.includes('timeout') || text.includes('timed out') || text.includes('deadline')) return { reason: 'timeout', detail: message };
  if (text.includes('disconnect') || text.includes('not connected') || text.includes('offline')) {
    return { reason: 'disconnected', detail: message };
  }
  return { reason: 'error', detail: message };
}

/**
 * Runs one sample through the hierarchy and returns its events in causal order: SampleStarted; each
 * device's scores (or a DeviceMissed); the local aggregate and its exit; then, when the sample continues
 * (or always, in research mode, as shadow work), the devices' features, the edges and the cloud.
 */
export async function runSample(
  plan: SessionPlan,
  sample: SampleRef,
  requester: DeviceRequester,
  sections: ServerSections,
): Promise<SampleOutcome> {
  const { sessionId, topology, policy, mode, deadlineMs } = plan;
  const sampleIndex = sample.index;
  const research = mode === 'research';
  const events: NewEvent[] = [];
  const timing: SampleTiming = { serverModelMs: 0, deviceModelMs: 0, transportMs: 0 };
  let missed = 0;
  const missDetails: SampleOutcome['missDetails'] = [];
  const policyName = `entropy(local=${policy.thresholds.local}${policy.thresholds.edge !== undefined ? `,edge=${policy.thresholds.edge}` : ''})`;

  events.push({ type: 'SampleStarted', data: { sessionId, sampleIndex, sampleId: sample.sampleId, label: sample.label } });

  const miss = (deviceId: string, view: number, stage: DeviceMissed['stage'], f: Failure): void => {
    missed++;
    missDetails.push({ deviceId, detail: f.detail });
    events.push({ type: 'DeviceMissed', data: { sessionId, sampleIndex, deviceId, view, stage, deadlineMs, reason: f.reason } });
  };
  const bytes = (from: string, to: string, kind: BytesTransferred['kind'], n: number, shadow: boolean): void => {
    events.push({ type: 'BytesTransferred', data: { sessionId, sampleIndex, from, to, kind, bytes: n, shadow } });
  };
  const evaluated = (
    tier: 'device' | 'local' | 'edge' | 'cloud',
    node: string,
    probabilities: number[],
    latencyMs: number,
    shadow: boolean,
    view?: number,
  ): { probabilities: number[]; eta: number } => {
    const eta = normalizedEntropy(probabilities);
    events.push({
      type: 'SectionEvaluated',
      data: { sessionId, sampleIndex, tier, node, ...(view !== undefined ? { view } : {}), probabilities, entropy: eta, latencyMs, shadow },
    });
    return { probabilities, eta };
  };
  const decided = (tier: ExitTier, eta: number, threshold: number | null, exited: boolean, prediction: number, shadow: boolean): void => {
    events.push({
      type: 'ExitDecided',
      data: { sessionId, sampleIndex, tier, eta, threshold, policy: policyName, exited, prediction, label: sample.label, shadow },
    });
  };

  // 1. Every device computes its exit scores from its own view and sends them to the local aggregator.
  const scoreReplies = await Promise.all(
    topology.devices.map((d) =>
      ask(requester, d.deviceId, { stage: 'scores', sessionId, sampleIndex, dataset: plan.dataset, sampleId: sample.sampleId }, deadlineMs),
    ),
  );
  const deviceScores = new Map<number, Float32Array>();
  let slowest = 0;
  let slowestCompute = 0;
  topology.devices.forEach((d, i) => {
    const r = scoreReplies[i];
    if ('reason' in r) {
      miss(d.deviceId, d.view, 'scores', r);
      return;
    }
    const reply = r.reply as { scores: Uint8Array; latencyMs: number };
    const scores = scoresFromBytes(reply.scores);
    deviceScores.set(d.view, scores);
    bytes(d.deviceId, 'local', 'scores', reply.scores.byteLength, false);
    evaluated('device', d.deviceId, softmax(scores), reply.latencyMs, false, d.view);
    if (r.elapsedMs > slowest) {
      slowest = r.elapsedMs;
      slowestCompute = Math.min(reply.latencyMs, r.elapsedMs);
    }
  });
  timing.deviceModelMs += slowestCompute;
  timing.transportMs += Math.max(0, slowest - slowestCompute);

  // 2. The local aggregator and the local exit.
  let t = performance.now();
  const localProbabilities = deviceScores.size > 0 ? sections.local(deviceScores) : null;
  const localMs = performance.now() - t;
  timing.serverModelMs += localMs;
  const tLocal = policy.thresholds.local;
  let answered: { tier: ExitTier; prediction: number } | null = null;
  if (localProbabilities) {
    const local = evaluated('local', 'local', localProbabilities, localMs, false);
    const prediction = argmax(local.probabilities);
    const exited = local.eta < tLocal;
    decided('local', local.eta, tLocal, exited, prediction, false);
    if (exited) answered = { tier: 'local', prediction };
  } else {
    // No device answered: there is nothing to decide on locally, the sample goes on.
    decided('local', 1, tLocal, false, -1, false);
  }
  if (answered && !research) return { events, exit: answered.tier, prediction: answered.prediction, missed, missDetails, timing };

  // 3. Features of every device that answered travel on (shadow when the live policy already answered).
  const featuresShadow = answered !== null;
  const edgeOf = new Map(topology.devices.map((d) => [d.deviceId, d.edge]));
  const featureReplies = await Promise.all(
    topology.devices.map((d) =>
      deviceScores.has(d.view) ? ask(requester, d.deviceId, { stage: 'features', sessionId, sampleIndex }, deadlineMs) : Promise.resolve(null),
    ),
  );
  const deviceFeatures = new Map<number, Uint8Array>();
  slowest = 0;
  slowestCompute = 0;
  topology.devices.forEach((d, i) => {
    const r = featureReplies[i];
    if (r === null) return;
    if ('reason' in r) {
      miss(d.deviceId, d.view, 'features', r);
      return;
    }
    const reply = r.reply as { features: Uint8Array; latencyMs: number };
    deviceFeatures.set(d.view, reply.features);
    bytes(d.deviceId, edgeOf.get(d.deviceId) ?? 'cloud', 'features', reply.features.byteLength, featuresShadow);
    if (r.elapsedMs > slowest) {
      slowest = r.elapsedMs;
      slowestCompute = Math.min(reply.latencyMs, r.elapsedMs);
    }
  });
  if (!featuresShadow) {
    timing.deviceModelMs += slowestCompute;
    timing.transportMs += Math.max(0, slowest - slowestCompute);
  }

  // 4. Optional edge tier: each edge fuses its devices' features; the edge exit looks at their mean.
  let cloudInputs: Map<number | string, Uint8Array> = deviceFeatures;
  const edges = topology.edges ?? [];
  if (edges.length > 0) {
    cloudInputs = new Map();
    const edgeProbabilities: number[][] = [];
    const edgeShadow = answered !== null;
    for (const e of edges) {
      const views = sections.edgeViews(e.name);
      const mine = new Map([...deviceFeatures].filter(([v]) => views.includes(v)));
      let result: { scores: Float32Array; features: Uint8Array; latencyMs: number } | null = null;
      if (e.deviceId === null) {
        t = performance.now();
        const out = sections.edge(e.name, mine);
        const ms = performance.now() - t;
        if (!edgeShadow) timing.serverModelMs += ms;
        result = { ...out, latencyMs: ms };
      } else {
        const features = views.map((v) => mine.get(v) ?? null);
        const r = await ask(requester, e.deviceId, { stage: 'edge', sessionId, sampleIndex, features }, deadlineMs);
        if ('reason' in r) {
          missed++;
          missDetails.push({ deviceId: e.deviceId, detail: r.detail });
          events.push({
            type: 'DeviceMissed',
            data: { sessionId, sampleIndex, deviceId: e.deviceId, view: -1, stage: 'features', deadlineMs, reason: r.reason },
          });
        } else {
          const reply = r.reply as { scores: Uint8Array; features: Uint8Array; latencyMs: number };
          result = { scores: scoresFromBytes(reply.scores), features: reply.features, latencyMs: reply.latencyMs };
          if (!edgeShadow) {
            timing.deviceModelMs += reply.latencyMs;
            timing.transportMs += Math.max(0, r.elapsedMs - reply.latencyMs);
          }
        }
      }
      if (result) {
        edgeProbabilities.push(evaluated('edge', e.name, softmax(result.scores), result.latencyMs, edgeShadow).probabilities);
        cloudInputs.set(e.name, result.features);
      }
    }
    const tEdge = policy.thresholds.edge;
    if (edgeProbabilities.length > 0 && tEdge !== undefined) {
      const mean = edgeProbabilities[0].map((_, c) => edgeProbabilities.reduce((sum, p) => sum + p[c], 0) / edgeProbabilities.length);
      const eta = normalizedEntropy(mean);
      const prediction = argmax(mean);
      const exited = eta < tEdge;
      decided('edge', eta, tEdge, exited, prediction, edgeShadow);
      if (exited && !answered) answered = { tier: 'edge', prediction };
    }
    if (answered && !research) return { events, exit: answered.tier, prediction: answered.prediction, missed, missDetails, timing };
    for (const [name, f] of cloudInputs) bytes(String(name), 'cloud', 'features', f.byteLength, answered !== null);
  }

  // 5. The cloud, the last exit, always answers what reached it.
  const cloudShadow = answered !== null;
  t = performance.now();
  const cloudProbabilities = sections.cloud(cloudInputs);
  const cloudMs = performance.now() - t;
  if (!cloudShadow) timing.serverModelMs += cloudMs;
  const cloud = evaluated('cloud', 'cloud', cloudProbabilities, cloudMs, cloudShadow);
  const cloudPrediction = argmax(cloud.probabilities);
  decided('cloud', cloud.eta, null, true, cloudPrediction, cloudShadow);
  if (!answered) answered = { tier: 'cloud', prediction: cloudPrediction };
  return { events, exit: answered.tier, prediction: answered.prediction, missed, missDetails, timing };
}
