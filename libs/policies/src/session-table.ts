import {
  answersSample,
  sampleSections,
  type EntropyPolicySpec,
  type EventCatalogue,
  type EventType,
  type MessageSizes,
  type PayloadKind,
  type SessionMode,
  type SessionStarted,
} from '@ddnn/contracts';
import { loggedEntropy } from './exit-core';
import { edgeExitProbabilities } from './statistics';

/** One exit's outputs per sample; `computed[s] = 0` where the session never evaluated it. */
export interface ExitColumns {
  computed: Uint8Array;
  /** n x |C|, row-major. */
  probabilities: Float64Array;
  entropy: Float64Array;
  latencyMs: Float64Array;
}

/** A directed link that carries one kind of message of a fixed size. */
export interface LinkDef {
  from: string;
  to: string;
  fromTier: 'device' | 'edge';
  toTier: 'local' | 'edge' | 'cloud';
  kind: PayloadKind;
  bytes: number;
}

/** A compact per-sample table of one session, built from its events alone. */
export interface SessionSampleTable {
  sessionId: string;
  mode: SessionMode;
  classes: string[];
  deadlineMs: number;
  livePolicy: EntropyPolicySpec;
  messageSizes: MessageSizes;
  /** End devices; `next` is where a device's features go (its edge, or `cloud`). */
  devices: { deviceId: string; view: number; next: string }[];
  edges: { name: string; devices: number[] }[];
  /** Samples, in sample-index order: only samples the live session finished (a final exit decided). */
  n: number;
  sampleIndex: Int32Array;
  /** Class index, -1 when unknown. */
  label: Int32Array;
  local: ExitColumns;
  /** Null when the session has no edge tier. */
  edge: ExitColumns | null;
  /**
   * Per sample: the live session took it to the edge stage (an edge node answered, or the cloud ran after
   * it). Reached without an edge output (every edge node failed) = the edge exit cannot fire.
   */
  edgeReached: Uint8Array;
  cloud: ExitColumns;
  /** Per sample x device: answered the scores stage / delivered features when asked. */
  device: {
    answered: Uint8Array;
    featuresSent: Uint8Array;
    probabilities: Float64Array;
    entropy: Float64Array;
    latencyMs: Float64Array;
  };
  /** Per sample x edge node: evaluated, and its output. */
  edgeNodes: { computed: Uint8Array; probabilities: Float64Array; entropy: Float64Array; latencyMs: Float64Array };
  /** Per sample: a device timed out at the scores / features stage, so that stage waited the deadline. */
  scoresTimedOut: Uint8Array;
  featuresTimedOut: Uint8Array;
  /** Every link a policy can use, with its message size. */
  links: LinkDef[];
}

function exitColumns(n: number, c: number): ExitColumns {
  return {
    computed: new Uint8Array(n),
    probabilities: new Float64Array(n * c),
    entropy: new Float64Array(n).fill(NaN),
    latencyMs: new Float64Array(n),
  };
}

function linksOf(start: SessionStarted, devices: SessionSampleTable['devices'], edges: string[]): LinkDef[] {
  const m = start.messageSizes;
  const links: LinkDef[] = [];
  for (const d of devices) {
    links.push({ from: d.deviceId, to: 'local', fromTier: 'device', toTier: 'local', kind: 'scores', bytes: m.scoresBytes });
    links.push({
      from: d.deviceId,
      to: d.next,
      fromTier: 'device',
      toTier: d.next === 'cloud' ? 'cloud' : 'edge',
      kind: 'features',
      bytes: m.featuresBytes,
    });
  }
  for (const e of edges) {
    links.push({ from: e, to: 'cloud', fromTier: 'edge', toTier: 'cloud', kind: 'features', bytes: m.edgeFeaturesBytes ?? 0 });
  }
  for (const d of devices) {
    links.push({ from: d.deviceId, to: 'cloud', fromTier: 'device', toTier: 'cloud', kind: 'raw', bytes: m.rawBytes });
  }
  return links;
}

function checkProbabilities(p: number[], c: number, where: string): void {
  if (!Array.isArray(p) || p.length !== c) {
    throw new Error(`${where}: expected ${c} probabilities, got ${Array.isArray(p) ? p.length : typeof p}`);
  }
}

/** What a table needs of an event: its type and payload (a StoredEvent is one; so is a lighter row read for analysis). */
export type TableEvent = { [K in EventType]: { type: K; data: EventCatalogue[K] } }[EventType];

/**
 * Builds the per-sample table of one session from its events (any order; other sessions' events ignored).
 * Presence rules: a device answered a sample when its section was evaluated and it has no DeviceMissed at
 * stage `scores`; it delivered features when it answered and has no DeviceMissed at stage `features`.
 * A finished sample without a local output (no device answered) cannot exit locally, and has nothing to go on
 * with: every policy leaves it unanswered (`unfed`, prepared tables).
 */
export function sessionSamplesFromEvents(events: readonly TableEvent[]): SessionSampleTable {
  const starts = events.filter((e): e is Extract<TableEvent, { type: 'SessionStarted' }> => e.type === 'SessionStarted');
  if (starts.length === 0) throw new Error('no SessionStarted event: cannot analyze a session without it');
  const ids = new Set(starts.map((s) => s.data.sessionId));
  if (ids.size > 1) throw new Error(`events of several sessions (${[...ids].join(', ')}): pass one session's events`);
  const start = starts[0].data;
  const sessionId = start.sessionId;
  const c = start.classes.length;
  if (c < 2) throw new Error(`session ${sessionId}: needs at least 2 classes, got ${c}`);

  const edgeNames = (start.topology.edges ?? []).map((e) => e.name);
  const edgeIndex = new Map(edgeNames.map((e, i) => [e, i]));
  if (edgeNames.length > 0 && start.messageSizes.edgeFeaturesBytes === undefined) {
    throw new Error(`session ${sessionId}: has an edge tier but messageSizes.edgeFeaturesBytes is missing`);
  }
  const devices = start.topology.devices.map((d) => {
    if (d.edge !== undefined && !edgeIndex.has(d.edge)) {
      throw new Error(`session ${sessionId}: device ${d.deviceId} names unknown edge ${d.edge}`);
    }
    return { deviceId: d.deviceId, view: d.view, next: d.edge ?? 'cloud' };
  });
  const deviceIndex = new Map(devices.map((d, i) => [d.deviceId, i]));
  const edges = edgeNames.map((name) => ({
    name,
    devices: devices.flatMap((d, i) => (d.next === name ? [i] : [])),
  }));

  // Samples: those the live session finished, with an answer (a non-shadow exit that answered) or without one
  // (SampleUnanswered: another policy may answer it from its local output, or leave it unanswered too).
  const started = new Map<number, number | null>();
  const finished = new Set<number>();
  for (const e of events) {
    if (e.type === 'SampleStarted' && e.data.sessionId === sessionId) started.set(e.data.sampleIndex, e.data.label);
    else if (e.type === 'ExitDecided' && e.data.sessionId === sessionId && answersSample(e.data)) {
      finished.add(e.data.sampleIndex);
    } else if (e.type === 'SampleUnanswered' && e.data.sessionId === sessionId) finished.add(e.data.sampleIndex);
  }
  const indices = [...started.keys()].filter((i) => finished.has(i)).sort((a, b) => a - b);
  const n = indices.length;
  const row = new Map(indices.map((s, r) => [s, r]));
  const D = devices.length;
  const E = edges.length;

  const label = new Int32Array(n);
  indices.forEach((s, r) => {
    const l = started.get(s);
    if (l !== null && l !== undefined && (!Number.isInteger(l) || l < 0 || l >= c)) {
      throw new Error(`session ${sessionId}: sample ${s} has label ${l}, outside 0..${c - 1}`);
    }
    label[r] = l ?? -1;
  });
  const local = exitColumns(n, c);
  const cloud = exitColumns(n, c);
  const device = {
    answered: new Uint8Array(n * D),
    featuresSent: new Uint8Array(n * D),
    probabilities: new Float64Array(n * D * c),
    entropy: new Float64Array(n * D).fill(NaN),
    latencyMs: new Float64Array(n * D),
  };
  const edgeNodes = {
    computed: new Uint8Array(n * E),
    probabilities: new Float64Array(n * E * c),
    entropy: new Float64Array(n * E).fill(NaN),
    latencyMs: new Float64Array(n * E),
  };
  const scoresTimedOut = new Uint8Array(n);
  const featuresTimedOut = new Uint8Array(n);
  const evaluated = new Uint8Array(n * D);
  const missed = new Uint8Array(n * D);
  const missedFeatures = new Uint8Array(n * D);

  for (const e of events) {
    const sections = sampleSections(e);
    if (sections) {
      if (sections.sessionId !== sessionId) continue;
      const r = row.get(sections.sampleIndex);
      if (r === undefined) continue;
      for (const d of sections.sections) {
        const where = `session ${sessionId} sample ${sections.sampleIndex} ${d.tier} ${d.node}`;
        checkProbabilities(d.probabilities, c, where);
        if (d.tier === 'local' || d.tier === 'cloud') {
          const cols = d.tier === 'local' ? local : cloud;
          cols.computed[r] = 1;
          cols.probabilities.set(d.probabilities, r * c);
          cols.entropy[r] = d.entropy;
          cols.latencyMs[r] = d.latencyMs;
        } else if (d.tier === 'device') {
          const i = deviceIndex.get(d.node);
          if (i === undefined) throw new Error(`${where}: device not in the session topology`);
          evaluated[r * D + i] = 1;
          device.probabilities.set(d.probabilities, (r * D + i) * c);
          device.entropy[r * D + i] = d.entropy;
          device.latencyMs[r * D + i] = d.latencyMs;
        } else {
          const i = edgeIndex.get(d.node);
          if (i === undefined) throw new Error(`${where}: edge not in the session topology`);
          edgeNodes.computed[r * E + i] = 1;
          edgeNodes.probabilities.set(d.probabilities, (r * E + i) * c);
          edgeNodes.entropy[r * E + i] = d.entropy;
          edgeNodes.latencyMs[r * E + i] = d.latencyMs;
        }
      }
    } else if (e.type === 'DeviceMissed') {
      const d = e.data;
      if (d.sessionId !== sessionId) continue;
      const r = row.get(d.sampleIndex);
      const i = deviceIndex.get(d.deviceId);
      if (r === undefined || i === undefined) continue;
      if (d.stage === 'scores') {
        missed[r * D + i] = 1;
        if (d.reason === 'timeout') scoresTimedOut[r] = 1;
      } else {
        missedFeatures[r * D + i] = 1;
        if (d.reason === 'timeout') featuresTimedOut[r] = 1;
      }
    }
  }
  for (let k = 0; k < n * D; k++) {
    device.answered[k] = evaluated[k] & (missed[k] ^ 1);
    device.featuresSent[k] = device.answered[k] & (missedFeatures[k] ^ 1);
  }

  return {
    sessionId,
    mode: start.mode,
    classes: start.classes,
    deadlineMs: start.deadlineMs,
    livePolicy: start.policy,
    messageSizes: start.messageSizes,
    devices,
    edges,
    n,
    sampleIndex: Int32Array.from(indices),
    label,
    local,
    edge: E > 0 ? edgeExit(n, c, E, edgeNodes) : null,
    edgeReached: Uint8Array.from({ length: n }, (_, r) => {
      for (let i = 0; i < E; i++) if (edgeNodes.computed[r * E + i]) return 1;
      return E > 0 ? cloud.computed[r] : 0;
    }),
    cloud,
    device,
    edgeNodes,
    scoresTimedOut,
    featuresTimedOut,
    links: linksOf(start, devices, edgeNames),
  };
}

/** The edge exit per sample from the edge nodes that evaluated it (see edgeExitProbabilities). */
function edgeExit(n: number, c: number, E: number, nodes: SessionSampleTable['edgeNodes']): ExitColumns {
  const cols = exitColumns(n, c);
  for (let r = 0; r < n; r++) {
    const present: number[] = [];
    for (let i = 0; i < E; i++) if (nodes.computed[r * E + i]) present.push(i);
    if (present.length === 0) continue;
    cols.computed[r] = 1;
    cols.latencyMs[r] = Math.max(...present.map((i) => nodes.latencyMs[r * E + i]));
    if (E === 1) {
      cols.probabilities.set(nodes.probabilities.subarray(r * c, r * c + c), r * c);
      cols.entropy[r] = nodes.entropy[r];
    } else {
      const p = edgeExitProbabilities(present.map((i) => nodes.probabilities.subarray((r * E + i) * c, (r * E + i + 1) * c)));
      cols.probabilities.set(p, r * c);
      cols.entropy[r] = loggedEntropy(p);
    }
  }
  return cols;
}
