import type { EntropyPolicySpec, SessionMode, SessionTopology, StoredEvent } from '../events/catalogue';
import type { SessionProjection } from '../events/projections';

/** Lifecycle of a session: queued until a node owns it, running, then one of the three end states. */
export type SessionStatus = 'pending' | 'running' | 'completed' | 'stopped' | 'failed';
export const SESSION_STATUSES: readonly SessionStatus[] = ['pending', 'running', 'completed', 'stopped', 'failed'];

/** POST /api/sessions */
export interface CreateSessionRequest {
  /** A registered model id (`default` is the model `npm start` provides). */
  modelId: string;
  /** Dataset name under <DDNN_DATA_DIR>/datasets/. */
  dataset: string;
  split: 'train' | 'test';
  /** Run only the first `limit` samples of the split. */
  limit?: number;
  topology: SessionTopology;
  policy: EntropyPolicySpec;
  mode: SessionMode;
  /** How long a device may take to answer one request before it counts as missed. */
  deadlineMs: number;
  /** Samples started per second at most (omitted: as fast as the pipeline allows). */
  rate?: number;
}
export interface CreateSessionResponse {
  id: string;
}

/** Per exit tier: how many samples left the hierarchy there and how many of those were right. */
export interface ExitTally {
  exited: number;
  correct: number;
}
/** Per device: answered requests and misses. */
export interface DeviceTally {
  view: number | null;
  answered: number;
  missed: number;
}

/**
 * What a session did, folded from its events alone (so it can be rebuilt from the log and compared).
 * Counted bytes exclude shadow traffic; shadowBytes holds research-mode extras.
 */
export interface SessionSummary {
  samplesStarted: number;
  samplesDecided: number;
  /** Decided samples whose label is known. */
  labelled: number;
  correct: number;
  /** correct / labelled, null while nothing labelled was decided. */
  accuracy: number | null;
  exits: { local: ExitTally; edge: ExitTally; cloud: ExitTally };
  /** Counted bytes by link `from->to`. */
  bytesByLink: Record<string, number>;
  /** Counted bytes by payload kind. */
  bytesByKind: Record<string, number>;
  bytesTotal: number;
  shadowBytesTotal: number;
  /** bytesTotal / samplesDecided. */
  bytesPerSample: number | null;
  devices: Record<string, DeviceTally>;
  missed: number;
  /** Checkpoint of the last event folded in. */
  checkpoint: string | null;
}

/** GET /api/sessions/:id and each row of GET /api/sessions. */
export interface SessionView {
  id: string;
  status: SessionStatus;
  modelId: string;
  dataset: string;
  split: 'train' | 'test';
  mode: SessionMode;
  policy: EntropyPolicySpec;
  topology: SessionTopology;
  deadlineMs: number;
  rate: number | null;
  limit: number | null;
  /** Samples the session runs (known once it started). */
  sampleCount: number | null;
  samplesDone: number;
  /** API node that runs it, while it runs. */
  owner: string | null;
  demo: boolean;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** What the node that ran it measured (null until it ends). */
  stats: SessionRunStats | null;
  /** Folded from the session's events. */
  summary: SessionSummary | null;
  /** The event log's session-summary projection (libs/events), kept by its subscription; null in list rows. */
  projection: SessionProjection | null;
}

/**
 * Where a session's time went, summed over its samples on the node that ran it: server-side sections,
 * device compute, transport (waiting for replies beyond device compute) and waiting for the log.
 */
export interface SessionRunStats {
  samples: number;
  events: number;
  durationMs: number;
  /** Time running the samples alone (without loading the model, deploying and warming up the devices). */
  pipelineMs: number;
  serverModelMs: number;
  deviceModelMs: number;
  transportMs: number;
  loggingMs: number;
}

/** GET /api/sessions?status=&limit=&offset= */
export interface SessionList {
  items: SessionView[];
  total: number;
  limit: number;
  offset: number;
}

/** GET /api/sessions/:id/events?after=CHECKPOINT&limit=N */
export interface SessionEventsPage {
  events: StoredEvent[];
  /** Pass as `after` to continue; equals the request's `after` when nothing new was found. */
  checkpoint: string | null;
  /** True when more events may follow right away. */
  hasMore: boolean;
}

/** The summary before any event. */
export function emptySessionSummary(): SessionSummary {
  const tally = (): ExitTally => ({ exited: 0, correct: 0 });
  return {
    samplesStarted: 0,
    samplesDecided: 0,
    labelled: 0,
    correct: 0,
    accuracy: null,
    exits: { local: tally(), edge: tally(), cloud: tally() },
    bytesByLink: {},
    bytesByKind: {},
    bytesTotal: 0,
    shadowBytesTotal: 0,
    bytesPerSample: null,
    devices: {},
    missed: 0,
    checkpoint: null,
  };
}

/**
 * Folds a session's events, in log order, into its summary (pure, so a summary kept up to date event by event
 * equals one rebuilt from the log). A sample is decided by its first non-shadow exit that answered.
 */
export function foldSessionSummary(summary: SessionSummary, event: StoredEvent): SessionSummary {
  const s: SessionSummary = {
    ...summary,
    exits: { local: { ...summary.exits.local }, edge: { ...summary.exits.edge }, cloud: { ...summary.exits.cloud } },
    bytesByLink: { ...summary.bytesByLink },
    bytesByKind: { ...summary.bytesByKind },
    devices: { ...summary.devices },
    checkpoint: event.checkpoint,
  };
  const device = (id: string, view: number | null): DeviceTally => (s.devices[id] = { ...(s.devices[id] ?? { view, answered: 0, missed: 0 }) });
  switch (event.type) {
    case 'SampleStarted':
      s.samplesStarted++;
      break;
    case 'SectionEvaluated':
      if (event.data.tier === 'device') device(event.data.node, event.data.view ?? null).answered++;
      break;
    case 'DeviceMissed':
      s.missed++;
      device(event.data.deviceId, event.data.view >= 0 ? event.data.view : null).missed++;
      break;
    case 'BytesTransferred': {
      const d = event.data;
      if (d.shadow) {
        s.shadowBytesTotal += d.bytes;
        break;
      }
      const link = `${d.from}->${d.to}`;
      s.bytesByLink[link] = (s.bytesByLink[link] ?? 0) + d.bytes;
      s.bytesByKind[d.kind] = (s.bytesByKind[d.kind] ?? 0) + d.bytes;
      s.bytesTotal += d.bytes;
      break;
    }
    case 'ExitDecided': {
      const d = event.data;
      if (d.shadow || !d.exited) break;
      s.samplesDecided++;
      const right = d.label !== null && d.prediction === d.label;
      s.exits[d.tier].exited++;
      if (right) s.exits[d.tier].correct++;
      if (d.label !== null) {
        s.labelled++;
        if (right) s.correct++;
      }
      break;
    }
    default:
      break;
  }
  s.accuracy = s.labelled ? s.correct / s.labelled : null;
  s.bytesPerSample = s.samplesDecided ? s.bytesTotal / s.samplesDecided : null;
  return s;
}
