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
  /** Probability that an edge node fails on a sample. */
  missEdges?: number;
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

/** The entropy the orchestrator logs: normalized, clamped to [0, 1] against rounding. */
function clampedEntropy(p: number[]): number {
  return Math.min(1, Math.max(0, normalizedEntropy(p)));
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
      push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'device', node: d.deviceId, view: d.view, probabilities: p, entropy: clampedEntropy(p), latencyMs: 2 + 3 * rand(), shadow: false });
      push('BytesTransferred', { sessionId, sampleIndex: s, from: d.deviceId, to: 'local', kind: 'scores', bytes: sizes.scoresBytes, shadow: false });
    }
    const decide = (tier: ExitTier, p: number[], eta: number, threshold: number | null, shadow: boolean) => {
      const exited = threshold === null || eta < threshold;
      push('ExitDecided', { sessionId, sampleIndex: s, tier, eta, threshold, policy: 'entropy', exited, prediction: argmax(p), label, shadow });
      return exited;
    };
    const local = section(rand, truth, 1.2);
    const localEta = clampedEntropy(local);
    const localMs = 0.5 * rand();
    let shadow: boolean;
    if (answered.some(Boolean)) {
      push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'local', node: 'local', probabilities: local, entropy: localEta, latencyMs: localMs, shadow: false });
      shadow = decide('local', local, localEta, thresholds.local, false);
    } else {
      // No device answered: nothing to decide on locally, the sample goes on (logged as eta 1, prediction -1).
      push('ExitDecided', { sessionId, sampleIndex: s, tier: 'local', eta: 1, threshold: thresholds.local, policy: 'entropy', exited: false, prediction: -1, label, shadow: false });
      shadow = false;
    }
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
      const answering: string[] = [];
      const outputs: number[][] = [];
      for (const name of edgeNames) {
        const p = section(rand, truth, 1.6);
        const latencyMs = 1 + rand();
        if (rand() < (o.missEdges ?? 0)) continue; // the edge node failed: no output, nothing sent on
        push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'edge', node: name, probabilities: p, entropy: clampedEntropy(p), latencyMs, shadow });
        answering.push(name);
        outputs.push(p);
      }
      // No edge threshold, or no edge node answered: the edge exit is not decided and the sample goes on.
      if (outputs.length > 0 && thresholds.edge !== undefined) {
        const p = edgeExitProbabilities(outputs);
        const edgeExited = decide('edge', p, clampedEntropy(p), thresholds.edge, shadow);
        shadow = shadow || edgeExited;
        if (edgeExited && mode === 'production') continue;
      }
      for (const name of answering) {
        push('BytesTransferred', { sessionId, sampleIndex: s, from: name, to: 'cloud', kind: 'features', bytes: sizes.edgeFeaturesBytes ?? 0, shadow });
      }
    }
    const strength = 1.5 + delivered.filter(Boolean).length * 0.3;
    const cloud = section(rand, truth, strength);
    push('SectionEvaluated', { sessionId, sampleIndex: s, tier: 'cloud', node: 'cloud', probabilities: cloud, entropy: clampedEntropy(cloud), latencyMs: 4 + 4 * rand(), shadow });
    decide('cloud', cloud, clampedEntropy(cloud), null, shadow);
  }
  push('SessionCompleted', { sessionId, samples: o.samples, durationMs: o.samples });
  return events;
}
