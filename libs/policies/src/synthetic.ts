import type {
  EventCatalogue,
  EventType,
  ExitTier,
  MessageSizes,
  SessionMode,
  StoredEvent,
} from '@ddnn/contracts';
import { argmax, edgeExitProbabilities, normalizedEntropy } from './statistics';

/** Options of a simulated session (for benchmarks, tests and demos; no model involved). */
export interface SyntheticSessionOptions {
  sessionId?: string;
  samples: number;
  seed?: number;
  mode?: SessionMode;
  /** The live entropy thresholds. */
  thresholds?: { local: number; edge?: number };
  devices?: number;
  /** Edge node names; devices are dealt round-robin to them. None = no edge tier. */
  edges?: string[];
  classes?: number;
  /** Probability that a device misses the scores stage / the features stage of a sample. */
  missScores?: number;
  missFeatures?: number;
  /** Fraction of samples without a label. */
  unlabelled?: number;
  messageSizes?: MessageSizes;
}

/** Deterministic PRNG (mulberry32) so that two sessions with one seed see the same samples. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function softmax(logits: number[]): number[] {
  const m = Math.max(...logits);
  const e = logits.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/**
 * Events of a simulated session, as an orchestrator following the byte rule would log them: every
 * answering device sends scores to `local`; features go to the next tier only when the sample goes on
 * (logged as shadow in research mode when the live policy already exited); production mode never
 * computes the tiers after the live exit. Random draws depend only on the seed and sample index, so the
 * same seed gives the same samples in every mode and at every threshold.
 */
export function syntheticSessionEvents(o: SyntheticSessionOptions): StoredEvent[] {
  const sessionId = o.sessionId ?? 'synthetic';
  const mode = o.mode ?? 'research';
  const C = o.classes ?? 3;
  const D = o.devices ?? 6;
  const edgeNames = o.edges ?? [];
  const thresholds = o.thresholds ?? { local: 0.8 };
  const sizes: MessageSizes = o.messageSizes ?? {
    scoresBytes: 4 * C,
    featuresBytes: 128,
    rawBytes: 3072,
    ...(edgeNames.length ? { edgeFeaturesBytes: 512 } : {}),
  };
  const devices = Array.from({ length: D }, (_, i) => ({
    deviceId: `dev-${i}`,
    view: i,
    ...(edgeNames.length ? { edge: edgeNames[i % edgeNames.length] } : {}),
  }));
  const events: StoredEvent[] = [];
  const push = <K extends EventType>(type: K, data: EventCatalogue[K]) => {
    const position = events.length + 1;
    events.push({
      type,
      data,
      eventId: `${sessionId}-${position}`,
      streamId: `session-${sessionId}`,
      streamPosition: position,
      globalPosition: String(position),
      checkpoint: `1:${position}`,
      schemaVersion: 1,
      metadata: {},
      createdAt: new Date(1_700_000_000_000 + position).toISOString(),
    } as StoredEvent);
  };
  const section = (rand: () => number, label: number, strength: number) =>
    softmax(Array.from({ length: C }, (_, c) => (c === label ? strength : 0) + 2.2 * (rand() * 2 - 1)));

  push('SessionStarted', {
    sessionId,
    modelId: 'synthetic-model',
    dataset: 'synthetic',
    split: 'test',
    classes: Array.from({ length: C }, (_, c) => `class-${c}`),
    sampleCount: o.samples,
    topology: { devices, ...(edgeNames.length ? { edges: edgeNames.map((name) => ({ name, deviceId: null })) } : {}) },
    policy: { kind: 'entropy', thresholds },
    mode,
    deadlineMs: 200,
    messageSizes: sizes,
  });
  for (let s = 0; s < o.samples; s++) {
    const rand = prng(((o.seed ?? 1) * 1_000_003 + s) >>> 0);
    const truth = Math.floor(rand() * C);
    const label = rand() < (o.unlabelled ?? 0) ? null : truth;
    push('SampleStarted', { sessionId, sampleIndex: s, sampleId: `sample-${s}`, label });
    const answered: boolean[] = [];
    for (const d of devices) {
      const p = section(rand, truth, 0.4 + rand());
      const ok = rand() >= (o.missScores ?? 0);
      answered.push(ok);
      if (!ok) {
        push('DeviceMissed', { sessionId, sampleIndex: s, deviceId: d.deviceId, view: d.view, stage: 'scores', deadlineMs: 200, reason: 'timeout' });
        continue;
      }
      push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'device', node: d.deviceId, view: d.view, probabilities: p, entropy: normalizedEntropy(p), latencyMs: 2 + 3 * rand(), shadow: false });
      push('BytesTransferred', { sessionId, sampleIndex: s, from: d.deviceId, to: 'local', kind: 'scores', bytes: sizes.scoresBytes, shadow: false });
    }
    const decide = (tier: ExitTier, p: number[], eta: number, threshold: number | null, shadow: boolean) => {
      const exited = threshold === null || eta < threshold;
      push('ExitDecided', { sessionId, sampleIndex: s, tier, eta, threshold, policy: 'entropy', exited, prediction: argmax(p), label, shadow });
      return exited;
    };
    const local = section(rand, truth, 1.2);
    const localEta = normalizedEntropy(local);
    push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'local', node: 'local', probabilities: local, entropy: localEta, latencyMs: 0.5 * rand(), shadow: false });
    let shadow = decide('local', local, localEta, thresholds.local, false);
    if (shadow && mode === 'production') continue;
    const delivered: boolean[] = devices.map((d, i) => {
      if (!answered[i]) return false;
      if (rand() < (o.missFeatures ?? 0)) {
        push('DeviceMissed', { sessionId, sampleIndex: s, deviceId: d.deviceId, view: d.view, stage: 'features', deadlineMs: 200, reason: 'timeout' });
        return false;
      }
      push('BytesTransferred', { sessionId, sampleIndex: s, from: d.deviceId, to: d.edge ?? 'cloud', kind: 'features', bytes: sizes.featuresBytes, shadow });
      return true;
    });
    if (edgeNames.length) {
      const outputs = edgeNames.map((name) => {
        const p = section(rand, truth, 1.6);
        push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'edge', node: name, probabilities: p, entropy: normalizedEntropy(p), latencyMs: 1 + rand(), shadow });
        return p;
      });
      const p = edgeNames.length === 1 ? outputs[0] : edgeExitProbabilities(outputs);
      // No edge threshold = the edge never answers; for entropy that is T = 0 (eta < 0 never holds).
      const edgeExited = decide('edge', p, normalizedEntropy(p), thresholds.edge ?? 0, shadow);
      shadow = shadow || edgeExited;
      if (edgeExited && mode === 'production') continue;
      for (const name of edgeNames) {
        push('BytesTransferred', { sessionId, sampleIndex: s, from: name, to: 'cloud', kind: 'features', bytes: sizes.edgeFeaturesBytes ?? 0, shadow });
      }
    }
    const strength = 1.5 + delivered.filter(Boolean).length * 0.3;
    const cloud = section(rand, truth, strength);
    push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'cloud', node: 'cloud', probabilities: cloud, entropy: normalizedEntropy(cloud), latencyMs: 4 + 4 * rand(), shadow });
    decide('cloud', cloud, normalizedEntropy(cloud), null, shadow);
  }
  push('SessionCompleted', { sessionId, samples: o.samples, durationMs: o.samples });
  return events;
}
