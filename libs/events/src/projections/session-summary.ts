import type { DeviceSessionStats, ExitTier, SessionProjection, StoredEvent } from '@ddnn/contracts';

/** The session an event belongs to, or null for events outside sessions. */
export function sessionOf(event: StoredEvent): string | null {
  const id = (event.data as { sessionId?: unknown }).sessionId;
  return typeof id === 'string' ? id : null;
}

/** An empty summary for a session seen for the first time. */
export function emptySessionProjection(sessionId: string): SessionProjection {
  return {
    sessionId,
    status: 'running',
    modelId: null,
    dataset: null,
    split: null,
    mode: null,
    policy: null,
    classes: [],
    sampleCount: 0,
    samples: 0,
    answered: 0,
    labelled: 0,
    correct: 0,
    accuracy: null,
    exits: { local: zeroTier(), edge: zeroTier(), cloud: zeroTier() },
    bytes: { total: 0, links: [] },
    devices: [],
    startedAt: null,
    endedAt: null,
    durationMs: null,
    abortReason: null,
    events: 0,
    lastEventAt: null,
    checkpoint: null,
  };
}

/** Applies one event of the session to its summary (pure: returns a new object, the input is untouched). */
export function applyToSessionProjection(prev: SessionProjection, event: StoredEvent): SessionProjection {
  const s: SessionProjection = structuredClone(prev);
  s.events += 1;
  s.lastEventAt = event.createdAt;
  s.checkpoint = event.checkpoint;
  switch (event.type) {
    case 'SessionStarted': {
      const d = event.data;
      s.modelId = d.modelId;
      s.dataset = d.dataset;
      s.split = d.split;
      s.mode = d.mode;
      s.policy = d.policy;
      s.classes = [...d.classes];
      s.sampleCount = d.sampleCount;
      s.startedAt = event.createdAt;
      for (const dev of d.topology.devices) device(s, dev.deviceId).view = dev.view;
      break;
    }
    case 'SampleStarted':
      s.samples += 1;
      break;
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
      if (d.shadow || !d.exited) break;
      const tier = s.exits[d.tier as ExitTier];
      s.answered += 1;
      tier.exited += 1;
      if (d.label !== null) {
        s.labelled += 1;
        tier.labelled += 1;
        if (d.prediction === d.label) {
          s.correct += 1;
          tier.correct += 1;
        }
      }
      s.accuracy = s.labelled ? s.correct / s.labelled : null;
      break;
    }
    case 'BytesTransferred': {
      const d = event.data;
      if (d.shadow) break;
      let link = s.bytes.links.find((l) => l.from === d.from && l.to === d.to && l.kind === d.kind);
      if (!link) {
        link = { from: d.from, to: d.to, kind: d.kind, messages: 0, bytes: 0 };
        s.bytes.links.push(link);
        s.bytes.links.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.kind.localeCompare(b.kind));
      }
      link.messages += 1;
      link.bytes += d.bytes;
      s.bytes.total += d.bytes;
      break;
    }
    case 'DeviceMissed': {
      const d = event.data;
      const dev = device(s, d.deviceId);
      if (dev.view === null) dev.view = d.view;
      dev.missed += 1;
      dev.missedByReason[d.reason] += 1;
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

/** Folds a session's events (in readAll order) into its summary. */
export function foldSessionProjection(sessionId: string, events: StoredEvent[]): SessionProjection {
  return events.reduce(applyToSessionProjection, emptySessionProjection(sessionId));
}

function zeroTier() {
  return { exited: 0, labelled: 0, correct: 0 };
}

function device(s: SessionProjection, deviceId: string): DeviceSessionStats {
  let d = s.devices.find((x) => x.deviceId === deviceId);
  if (!d) {
    d = {
      deviceId,
      view: null,
      answered: 0,
      missed: 0,
      missedByReason: { timeout: 0, disconnected: 0, error: 0 },
      meanLatencyMs: null,
      latencyMsTotal: 0,
    };
    s.devices.push(d);
    s.devices.sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }
  return d;
}
