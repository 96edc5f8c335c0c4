import type { EntropyPolicySpec, MessageSizes, NewEvent, SessionMode, SessionTopology, StoredEvent, Tier } from '@ddnn/contracts';
import { loggedEntropy, SampleDecider, type ExitOutput, type ExitPlan, type SampleOutputs } from './exit-core';
import { policyLabel } from './policy-json';

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
  /**
   * Log each link message as its own BytesTransferred, as sessions logged before MessagesTransferred did (one per
   * message, where the sample's MessagesTransferred stands): readers must read such logs the same.
   */
  perMessageTraffic?: boolean;
  /**
   * Log each section as its own SectionEvaluated, as sessions logged before SectionsEvaluated did (one per section,
   * where a stage's SectionsEvaluated stands): readers must read such logs the same.
   */
  perSectionEvents?: boolean;
}

/** Deterministic PRNG (mulberry32) so that two sessions with one seed see the same samples. */
export function prng(seed: number): () => number {
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
 * Events of a simulated session, decided by the exit core exactly as the live runner decides: every answering
 * device sends scores to `local`; features go on only when the sample goes on (shadow in research mode when the
 * live policy already answered); production mode never computes the stages after the live exit. Every random
 * draw of a sample is made up front from the seed and the sample index, so the same seed gives the same samples
 * in every mode and at every threshold.
 */
export function syntheticSessionEvents(o: SyntheticSessionOptions): StoredEvent[] {
  const sessionId = o.sessionId ?? 'synthetic';
  const mode = o.mode ?? 'research';
  const C = o.classes ?? 3;
  const D = o.devices ?? 6;
  const edgeNames = o.edges ?? [];
  const thresholds = o.thresholds ?? { local: 0.8 };
  const deadlineMs = 200;
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
  const topology: SessionTopology = { devices, ...(edgeNames.length ? { edges: edgeNames.map((name) => ({ name, deviceId: null })) } : {}) };
  const policy: EntropyPolicySpec = { kind: 'entropy', thresholds };
  const plan: ExitPlan = { topology, messageSizes: sizes, policy, mode };
  const events: StoredEvent[] = [];
  const push = (e: NewEvent): void => {
    if (o.perMessageTraffic && e.type === 'MessagesTransferred') {
      const { sessionId: id, sampleIndex, messages } = e.data;
      for (const m of messages) push({ type: 'BytesTransferred', data: { sessionId: id, sampleIndex, ...m } });
      return;
    }
    const position = events.length + 1;
    events.push({
      ...e,
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
  const output = (p: number[]): ExitOutput => ({ probabilities: p, entropy: loggedEntropy(p) });

  push({
    type: 'SessionStarted',
    data: {
      sessionId,
      modelId: 'synthetic-model',
      dataset: 'synthetic',
      split: 'test',
      classes: Array.from({ length: C }, (_, c) => `class-${c}`),
      sampleCount: o.samples,
      topology,
      policy,
      mode,
      deadlineMs,
      messageSizes: sizes,
    },
  });
  for (let s = 0; s < o.samples; s++) {
    // Every draw first, in a fixed order, whatever the decisions: a sample is the same in every session.
    const rand = prng(((o.seed ?? 1) * 1_000_003 + s) >>> 0);
    const truth = Math.floor(rand() * C);
    const label = rand() < (o.unlabelled ?? 0) ? null : truth;
    const device = devices.map(() => ({ p: section(rand, truth, 0.4 + rand()), ok: rand() >= (o.missScores ?? 0), latencyMs: 2 + 3 * rand() }));
    const local = section(rand, truth, 1.2);
    const localMs = 0.5 * rand();
    const delivers = device.map((d) => d.ok && rand() >= (o.missFeatures ?? 0));
    const edge = edgeNames.map(() => ({ p: section(rand, truth, 1.6), latencyMs: 1 + rand(), ok: rand() >= (o.missEdges ?? 0) }));
    const cloud = section(rand, truth, 1.5 + delivers.filter(Boolean).length * 0.3);
    const cloudMs = 4 + 4 * rand();

    const decider = new SampleDecider(plan, { sessionId, sampleIndex: s, label, policy: policyLabel(policy) });
    const evaluated = (tier: Tier, node: string, p: number[], latencyMs: number, shadow: boolean, view?: number): void => {
      const section = { tier, node, ...(view !== undefined ? { view } : {}), probabilities: p, entropy: loggedEntropy(p), latencyMs, shadow };
      // Older logs: each section in place, in causal order (a device's between the misses of the devices around it).
      if (o.perSectionEvents) push({ type: 'SectionEvaluated', data: { sessionId, sampleIndex: s, ...section } });
      else decider.evaluated(section);
    };
    const missed = (d: (typeof devices)[number], stage: 'scores' | 'features') =>
      push({ type: 'DeviceMissed', data: { sessionId, sampleIndex: s, deviceId: d.deviceId, view: d.view, stage, deadlineMs, reason: 'timeout' } });

    push({ type: 'SampleStarted', data: { sessionId, sampleIndex: s, sampleId: `sample-${s}`, label } });
    devices.forEach((d, i) => (device[i].ok ? evaluated('device', d.deviceId, device[i].p, device[i].latencyMs, false, d.view) : missed(d, 'scores')));
    const scores = device.map((d) => d.ok);
    const out: SampleOutputs = { scores, local: scores.some(Boolean) ? output(local) : null };
    if (out.local) evaluated('local', 'local', local, localMs, false);
    let r = decider.decide(out);
    r.events.forEach(push);
    if (r.next === 'features') {
      devices.forEach((d, i) => device[i].ok && !delivers[i] && missed(d, 'features'));
      out.features = delivers;
      r = decider.decide(out);
      r.events.forEach(push);
    }
    if (r.next === 'edge') {
      const shadow = r.answer !== null;
      edgeNames.forEach((name, i) => edge[i].ok && evaluated('edge', name, edge[i].p, edge[i].latencyMs, shadow));
      out.edges = edge.map((e) => (e.ok ? output(e.p) : null));
      r = decider.decide(out);
      r.events.forEach(push);
    }
    if (r.next === 'cloud') {
      evaluated('cloud', 'cloud', cloud, cloudMs, r.answer !== null);
      out.cloud = output(cloud);
      r = decider.decide(out);
      r.events.forEach(push);
    }
  }
  push({ type: 'SessionCompleted', data: { sessionId, samples: o.samples, durationMs: o.samples } });
  return events;
}
