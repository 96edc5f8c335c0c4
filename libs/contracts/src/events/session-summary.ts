import { answersSample, MISS_REASONS, sampleSections, sampleTraffic, type ExitTier, type LinkMessage, type SampleSections, type SampleTraffic, type StoredEvent, type StreamGap } from './catalogue';
import type { DeviceSessionStats, ExitTierStats, SessionSummary, StreamGapsSummary, StreamGapTotals } from './projections';

/** How many latest decisions a stream's summary remembers for labels racing their sample's commit. */
export const RECENT_DECISIONS = 256;

/** How many latest gaps a stream's summary keeps to show (their totals count them all). */
export const RECENT_GAPS = 20;

/** Gap totals before any gap. */
export function emptyGapTotals(): StreamGapTotals {
  return { missedTriggers: { outage: 0, backlog: 0, stall: 0 }, outages: 0, outageMs: 0 };
}

/** A stream's gaps before any. */
export function emptyGaps(): StreamGapsSummary {
  return { ...emptyGapTotals(), recent: [] };
}

/**
 * Counts one gap into totals (in place): the one rule of a stream's gap totals, which the summary, a window's gaps
 * on the stream page and the metrics rollup all count through.
 */
export function countGap(t: StreamGapTotals, gap: Pick<StreamGap, 'cause' | 'from' | 'to' | 'missedTriggers'>): void {
  t.missedTriggers[gap.cause] = (t.missedTriggers[gap.cause] ?? 0) + gap.missedTriggers;
  if (gap.cause === 'outage') {
    t.outages += 1;
    t.outageMs += Math.max(0, gap.to - gap.from);
  }
}

/** Counts one gap into `g` (in place), keeping the latest `keep` of them. */
export function addGap(g: StreamGapsSummary, gap: Omit<StreamGap, 'sessionId'>, keep = Infinity): void {
  countGap(g, gap);
  g.recent.push(gap);
  if (g.recent.length > keep) g.recent.shift();
}

/** The summary of a session before any of its events. */
export function emptySessionSummary(sessionId: string): SessionSummary {
  const tier = (): ExitTierStats => ({ exited: 0, labelled: 0, correct: 0 });
  return {
    sessionId,
    kind: 'session',
    status: 'running',
    modelId: null,
    dataset: null,
    split: null,
    mode: null,
    policy: null,
    classes: [],
    sampleCount: 0,
    samplesStarted: 0,
    samplesDecided: 0,
    unanswered: 0,
    labelled: 0,
    correct: 0,
    accuracy: null,
    rate: null,
    lastSampleIndex: null,
    labelsReceived: 0,
    pendingLabels: {},
    recentDecisions: [],
    recentUnanswered: [],
    exits: { local: tier(), edge: tier(), cloud: tier() },
    bytes: { total: 0, shadowTotal: 0, perSample: null, links: [] },
    devices: {},
    missed: 0,
    ranWithout: [],
    startedAt: null,
    endedAt: null,
    durationMs: null,
    abortReason: null,
    events: 0,
    lastEventAt: null,
    checkpoint: null,
  };
}

/**
 * Folds one of a session's events, in log order, into its summary. Pure (the input is untouched), so a summary
 * kept up to date batch by batch equals one rebuilt from the log. A sample is decided by the exit that answered
 * it (`answersSample`). Folding many events, use foldSessionEvents: one copy for all of them.
 */
export function foldSessionSummary(prev: SessionSummary, event: StoredEvent): SessionSummary {
  return foldSessionEvents(prev, [event]);
}

/**
 * Folds a run of a session's events, in log order, into its summary: the same as folding them one by one with
 * foldSessionSummary, and as pure, but the summary is copied once for the run and then updated in place (a copy
 * per event was a tenth of everything the API allocated under load: the projections and the live summaries fold
 * every event of a session).
 */
export function foldSessionEvents(prev: SessionSummary, events: readonly StoredEvent[]): SessionSummary {
  if (events.length === 0) return prev;
  const s = ownedCopy(prev);
  for (const event of events) applyEvent(s, event);
  return s;
}

/** A copy of a summary sharing nothing the fold changes in place (events and policies are never changed). */
function ownedCopy(p: SessionSummary): SessionSummary {
  const devices: Record<string, DeviceSessionStats> = {};
  for (const id of Object.keys(p.devices)) devices[id] = { ...p.devices[id], missedByReason: { ...p.devices[id].missedByReason } };
  const s: SessionSummary = {
    ...p,
    classes: [...p.classes],
    exits: { local: { ...p.exits.local }, edge: { ...p.exits.edge }, cloud: { ...p.exits.cloud } },
    bytes: { ...p.bytes, links: p.bytes.links.map((l) => ({ ...l })) },
    devices,
  };
  if (p.pendingLabels) s.pendingLabels = { ...p.pendingLabels };
  if (p.recentDecisions) s.recentDecisions = [...p.recentDecisions];
  if (p.recentUnanswered) s.recentUnanswered = [...p.recentUnanswered];
  if (p.ranWithout) s.ranWithout = [...p.ranWithout];
  if (p.gaps) s.gaps = { ...p.gaps, missedTriggers: { ...p.gaps.missedTriggers }, recent: [...p.gaps.recent] };
  return s;
}

/** Folds one event into a summary this fold owns (see ownedCopy), in place. */
function applyEvent(s: SessionSummary, event: StoredEvent): void {
  s.events += 1;
  s.lastEventAt = event.createdAt;
  s.checkpoint = event.checkpoint;
  switch (event.type) {
    case 'SessionStarted': {
      const d = event.data;
      Object.assign(s, { modelId: d.modelId, dataset: d.dataset, split: d.split, mode: d.mode, policy: d.policy });
      s.classes = [...d.classes];
      s.sampleCount = d.sampleCount;
      s.startedAt = event.createdAt;
      for (const dev of d.topology.devices) device(s, dev.deviceId).view = dev.view;
      break;
    }
    case 'StreamStarted': {
      const d = event.data;
      Object.assign(s, { kind: 'stream', modelId: d.modelId, dataset: null, split: null, mode: d.mode, policy: d.policy, rate: d.rate });
      s.classes = [...d.classes];
      s.startedAt = event.createdAt;
      for (const dev of d.topology.devices) device(s, dev.deviceId).view = dev.view;
      break;
    }
    case 'SampleStarted':
      s.samplesStarted += 1;
      s.lastSampleIndex = Math.max(s.lastSampleIndex ?? -1, event.data.sampleIndex);
      break;
    case 'SampleLabelled': {
      const d = event.data;
      s.labelsReceived = (s.labelsReceived ?? 0) + 1;
      const decided = d.decision ?? (s.recentDecisions ?? []).find((r) => r.sampleIndex === d.sampleIndex);
      if (decided) countLabel(s, decided.tier, decided.prediction, d.label);
      // A label that raced its sample's SampleUnanswered has nothing to count against.
      else if (!(s.recentUnanswered ?? []).includes(d.sampleIndex)) (s.pendingLabels ??= {})[d.sampleIndex] = d.label;
      break;
    }
    case 'SectionEvaluated':
    case 'SectionsEvaluated':
      for (const d of (sampleSections(event) as SampleSections).sections) {
        if (d.shadow || d.tier !== 'device') continue;
        const dev = device(s, d.node);
        if (dev.view === null && d.view !== undefined) dev.view = d.view;
        dev.answered += 1;
        dev.latencyMsTotal += d.latencyMs;
        dev.meanLatencyMs = dev.latencyMsTotal / dev.answered;
      }
      break;
    case 'ExitDecided': {
      const d = event.data;
      if (!answersSample(d)) break;
      s.samplesDecided += 1;
      s.exits[d.tier].exited += 1;
      const pending = s.pendingLabels?.[d.sampleIndex];
      if (d.label !== null) countLabel(s, d.tier, d.prediction, d.label);
      else if (pending !== undefined) {
        delete s.pendingLabels![d.sampleIndex];
        countLabel(s, d.tier, d.prediction, pending);
      }
      if (s.kind === 'stream') remember((s.recentDecisions ??= []), { sampleIndex: d.sampleIndex, tier: d.tier, prediction: d.prediction });
      s.bytes.perSample = s.bytes.total / s.samplesDecided;
      break;
    }
    case 'SampleUnanswered':
      s.unanswered = (s.unanswered ?? 0) + 1;
      // Its label, come early, has nothing to count against; one coming later neither (recentUnanswered).
      if (s.pendingLabels?.[event.data.sampleIndex] !== undefined) delete s.pendingLabels[event.data.sampleIndex];
      if (s.kind === 'stream') remember((s.recentUnanswered ??= []), event.data.sampleIndex);
      break;
    case 'BytesTransferred':
    case 'MessagesTransferred': {
      for (const d of (sampleTraffic(event) as SampleTraffic).messages) countMessage(s, d);
      s.bytes.perSample = s.samplesDecided ? s.bytes.total / s.samplesDecided : null;
      break;
    }
    case 'DeviceMissed': {
      const d = event.data;
      const dev = device(s, d.deviceId);
      if (dev.view === null && d.view >= 0) dev.view = d.view;
      dev.missed += 1;
      // Summaries stored before a reason existed lack its key: count from 0.
      dev.missedByReason[d.reason] = (dev.missedByReason[d.reason] ?? 0) + 1;
      s.missed += 1;
      break;
    }
    case 'SessionDevicesAbsent': {
      const before = (s.ranWithout ??= []);
      for (const id of event.data.deviceIds) if (!before.includes(id)) before.push(id);
      break;
    }
    case 'StreamGap': {
      const { cause, from, to, missedTriggers, nextSample } = event.data;
      addGap((s.gaps ??= emptyGaps()), { cause, from, to, missedTriggers, nextSample }, RECENT_GAPS);
      break;
    }
    case 'SessionCompleted':
      s.status = 'completed';
      s.endedAt = event.createdAt;
      s.durationMs = event.data.durationMs;
      dropPendingLabels(s);
      break;
    case 'SessionAborted':
      dropPendingLabels(s);
      s.status = 'aborted';
      s.endedAt = event.createdAt;
      s.abortReason = event.data.reason;
      s.durationMs = s.startedAt ? Date.parse(event.createdAt) - Date.parse(s.startedAt) : null;
      break;
    default:
      break;
  }
}

/**
 * A run that ended decides nothing more: a label still waiting for its sample never will count (the API refuses new
 * ones for undecided samples of an ended stream), and a stopped stream showed it pending for ever.
 */
function dropPendingLabels(s: SessionSummary): void {
  if (s.pendingLabels && Object.keys(s.pendingLabels).length) s.pendingLabels = {};
}

/** Adds one link message to the summary: shadow traffic to its own total, the rest by link. */
function countMessage(s: SessionSummary, d: LinkMessage): void {
  if (d.shadow) {
    s.bytes.shadowTotal += d.bytes;
    return;
  }
  const links = s.bytes.links;
  const link = links.find((l) => l.from === d.from && l.to === d.to && l.kind === d.kind);
  if (link) {
    link.messages += 1;
    link.bytes += d.bytes;
  } else {
    links.push({ from: d.from, to: d.to, kind: d.kind, messages: 1, bytes: d.bytes });
    links.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.kind.localeCompare(b.kind));
  }
  s.bytes.total += d.bytes;
}

/** A decided sample whose label is known counts toward accuracy, overall and at the tier that answered it. */
function countLabel(s: SessionSummary, exit: ExitTier, prediction: number, label: number): void {
  const tier = s.exits[exit];
  s.labelled += 1;
  tier.labelled += 1;
  if (prediction === label) {
    s.correct += 1;
    tier.correct += 1;
  }
  s.accuracy = s.correct / s.labelled;
}

/** Keeps the latest RECENT_DECISIONS entries of a stream's recent outcomes, for labels racing their sample. */
function remember<T>(recent: T[], d: T): void {
  if (recent.length >= RECENT_DECISIONS) recent.splice(0, recent.length - RECENT_DECISIONS + 1);
  recent.push(d);
}

/** Counted bytes by link `from->to`, over all payload kinds (the dashboard's topology and link charts). */
export function bytesByLink(summary: SessionSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of summary.bytes.links) out[`${l.from}->${l.to}`] = (out[`${l.from}->${l.to}`] ?? 0) + l.bytes;
  return out;
}

// The device's stats (first seen: empty stats).
function device(s: SessionSummary, deviceId: string): DeviceSessionStats {
  return (s.devices[deviceId] ??= { view: null, answered: 0, missed: 0, missedByReason: noMisses(), meanLatencyMs: null, latencyMsTotal: 0 });
}

function noMisses(): DeviceSessionStats['missedByReason'] {
  return Object.fromEntries(MISS_REASONS.map((r) => [r, 0])) as DeviceSessionStats['missedByReason'];
}
