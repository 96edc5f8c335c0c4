import { answersSample, MISS_REASONS, type ExitTier, type StoredEvent } from './catalogue';
import type { DeviceSessionStats, ExitTierStats, RecentDecision, SessionSummary } from './projections';

/** How many latest decisions a stream's summary remembers for labels racing their sample's commit. */
export const RECENT_DECISIONS = 256;

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
    labelled: 0,
    correct: 0,
    accuracy: null,
    rate: null,
    lastSampleIndex: null,
    labelsReceived: 0,
    pendingLabels: {},
    recentDecisions: [],
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
 * it (`answersSample`). Only what the event changes is copied: the API folds whole sessions on demand.
 */
export function foldSessionSummary(prev: SessionSummary, event: StoredEvent): SessionSummary {
  const s: SessionSummary = { ...prev, events: prev.events + 1, lastEventAt: event.createdAt, checkpoint: event.checkpoint };
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
      s.lastSampleIndex = Math.max(prev.lastSampleIndex ?? -1, event.data.sampleIndex);
      break;
    case 'SampleLabelled': {
      const d = event.data;
      s.labelsReceived = (prev.labelsReceived ?? 0) + 1;
      const decided = d.decision ?? (prev.recentDecisions ?? []).find((r) => r.sampleIndex === d.sampleIndex);
      if (decided) countLabel(s, decided.tier, decided.prediction, d.label);
      else s.pendingLabels = { ...prev.pendingLabels, [d.sampleIndex]: d.label };
      break;
    }
    case 'SectionEvaluated': {
      const d = event.data;
      if (d.shadow || d.tier !== 'device') break;
      const dev = device(s, d.node);
      if (dev.view === null && d.view !== undefined) dev.view = d.view;
      dev.answered += 1;
      dev.latencyMsTotal += d.latencyMs;
      dev.meanLatencyMs = dev.latencyMsTotal / dev.answered;
      break;
    }
    case 'ExitDecided': {
      const d = event.data;
      if (!answersSample(d)) break;
      const tier: ExitTierStats = { ...s.exits[d.tier] };
      s.exits = { ...s.exits, [d.tier]: tier };
      s.samplesDecided += 1;
      tier.exited += 1;
      const pending = prev.pendingLabels?.[d.sampleIndex];
      if (d.label !== null) countLabel(s, d.tier, d.prediction, d.label);
      else if (pending !== undefined) {
        const rest = { ...prev.pendingLabels };
        delete rest[d.sampleIndex];
        s.pendingLabels = rest;
        countLabel(s, d.tier, d.prediction, pending);
      }
      if (s.kind === 'stream') s.recentDecisions = remember(prev.recentDecisions ?? [], { sampleIndex: d.sampleIndex, tier: d.tier, prediction: d.prediction });
      s.bytes = { ...s.bytes, perSample: s.bytes.total / s.samplesDecided };
      break;
    }
    case 'BytesTransferred': {
      const d = event.data;
      if (d.shadow) {
        s.bytes = { ...s.bytes, shadowTotal: s.bytes.shadowTotal + d.bytes };
        break;
      }
      const links = [...s.bytes.links];
      const i = links.findIndex((l) => l.from === d.from && l.to === d.to && l.kind === d.kind);
      if (i >= 0) links[i] = { ...links[i], messages: links[i].messages + 1, bytes: links[i].bytes + d.bytes };
      else {
        links.push({ from: d.from, to: d.to, kind: d.kind, messages: 1, bytes: d.bytes });
        links.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.kind.localeCompare(b.kind));
      }
      const total = s.bytes.total + d.bytes;
      s.bytes = { ...s.bytes, total, links, perSample: s.samplesDecided ? total / s.samplesDecided : null };
      break;
    }
    case 'DeviceMissed': {
      const d = event.data;
      const dev = device(s, d.deviceId);
      if (dev.view === null && d.view >= 0) dev.view = d.view;
      dev.missed += 1;
      // Summaries stored before a reason existed lack its key: count from 0.
      dev.missedByReason = { ...dev.missedByReason, [d.reason]: (dev.missedByReason[d.reason] ?? 0) + 1 };
      s.missed += 1;
      break;
    }
    case 'SessionDevicesAbsent': {
      const before = prev.ranWithout ?? [];
      s.ranWithout = [...before, ...event.data.deviceIds.filter((id) => !before.includes(id))];
      break;
    }
    case 'SessionCompleted':
      s.status = 'completed';
      s.endedAt = event.createdAt;
      s.durationMs = event.data.durationMs;
      break;
    case 'SessionAborted':
      s.status = 'aborted';
      s.endedAt = event.createdAt;
      s.abortReason = event.data.reason;
      s.durationMs = s.startedAt ? Date.parse(event.createdAt) - Date.parse(s.startedAt) : null;
      break;
    default:
      break;
  }
  return s;
}

/** A decided sample whose label is known counts toward accuracy, overall and at the tier that answered it. */
function countLabel(s: SessionSummary, exit: ExitTier, prediction: number, label: number): void {
  const tier: ExitTierStats = { ...s.exits[exit] };
  s.exits = { ...s.exits, [exit]: tier };
  s.labelled += 1;
  tier.labelled += 1;
  if (prediction === label) {
    s.correct += 1;
    tier.correct += 1;
  }
  s.accuracy = s.correct / s.labelled;
}

function remember(recent: RecentDecision[], d: RecentDecision): RecentDecision[] {
  const next = recent.length >= RECENT_DECISIONS ? recent.slice(recent.length - RECENT_DECISIONS + 1) : [...recent];
  next.push(d);
  return next;
}

/** Counted bytes by link `from->to`, over all payload kinds (the dashboard's topology and link charts). */
export function bytesByLink(summary: SessionSummary): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of summary.bytes.links) out[`${l.from}->${l.to}`] = (out[`${l.from}->${l.to}`] ?? 0) + l.bytes;
  return out;
}

// A copy of the device's stats, put in a copy of the devices record (first seen: empty stats).
function device(s: SessionSummary, deviceId: string): DeviceSessionStats {
  const prev = s.devices[deviceId];
  const d: DeviceSessionStats = prev
    ? { ...prev }
    : { view: null, answered: 0, missed: 0, missedByReason: noMisses(), meanLatencyMs: null, latencyMsTotal: 0 };
  s.devices = { ...s.devices, [deviceId]: d };
  return d;
}

function noMisses(): DeviceSessionStats['missedByReason'] {
  return Object.fromEntries(MISS_REASONS.map((r) => [r, 0])) as DeviceSessionStats['missedByReason'];
}
