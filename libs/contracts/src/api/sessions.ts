import type { EntropyPolicySpec, SessionMode, SessionTopology, StoredEvent } from '../events/catalogue';

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
  /** Folded from the session's events; null in list rows. */
  summary: SessionSummary | null;
}

/**
 * Where a session's time went, summed over its samples on the node that ran it: server-side sections,
 * device compute, transport (waiting for replies beyond device compute) and waiting for the log.
 */
export interface SessionRunStats {
  samples: number;
  events: number;
  durationMs: number;
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
