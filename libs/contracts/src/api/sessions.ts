import type { EntropyPolicySpec, SessionConfiguration, SessionMode, SessionTopology, StoredEvent } from '../events/catalogue';
import type { SessionSummary } from '../events/projections';

/** Lifecycle of a session: queued until a node owns it, running, then one of the three end states. */
export type SessionStatus = 'pending' | 'running' | 'completed' | 'stopped' | 'failed';
export const SESSION_STATUSES: readonly SessionStatus[] = ['pending', 'running', 'completed', 'stopped', 'failed'];
/** The end states: a run in one no longer changes, and an operator may delete it. */
export type EndedRunStatus = Extract<SessionStatus, 'completed' | 'stopped' | 'failed'>;

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
  /** Run name, tags and note (editable later with PATCH). */
  name?: string;
  tags?: string[];
  note?: string;
  /**
   * The simulation (POST /api/simulations, on this node) whose devices the topology uses: its link model and
   * failures are recorded with the session, and unless it was created with `persist`, it stops and its devices
   * are deleted when the session ends.
   */
  simulationId?: string;
}
/** What the server records with a session at creation (the request plus what it resolved). */
export interface SessionSpec extends CreateSessionRequest {
  configuration?: SessionConfiguration;
}
/** PATCH /api/sessions/:id: what operators may edit on a run. */
export interface UpdateSessionRequest {
  name?: string;
  tags?: string[];
  note?: string;
}
/** GET /api/sessions filters (all optional, combined with AND). */
export interface SessionListQuery {
  status?: SessionStatus;
  tag?: string;
  modelId?: string;
  dataset?: string;
  /** Policy label as livePolicyLabel prints it, e.g. `entropy T=0.8`; matched on kind and local threshold. */
  policy?: string;
  mode?: SessionMode;
  limit?: number;
  offset?: number;
}
export interface CreateSessionResponse {
  id: string;
}

/** What a session's view and a stream's view share: identity, run fields, how it runs, lifecycle and summary. */
export interface RunView {
  id: string;
  /** Operator-given run name ('' when none), tags and note. */
  name: string;
  tags: string[];
  note: string;
  status: SessionStatus;
  modelId: string;
  mode: SessionMode;
  policy: EntropyPolicySpec;
  topology: SessionTopology;
  deadlineMs: number;
  /** Link model, injected failures and device names recorded at creation (null for older sessions). */
  configuration: SessionConfiguration | null;
  samplesDone: number;
  /** API node that runs it, while it runs. */
  owner: string | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * When an operator asked for the run's deletion, while it goes on (a long log is deleted a chunk at a time, after
   * the request answered 202); null otherwise. Its log, summary and metrics are partly gone meanwhile.
   */
  deletingSince: string | null;
  /**
   * What the node that ended it measured over its own stint (null until it ends): a run resumed after a restart or
   * taken over from another node counts from there (`stats.samples` < `summary.samplesStarted`).
   */
  stats: SessionRunStats | null;
  /**
   * Folded from the run's events up to the head of the log when the response was built (`foldSessionSummary`,
   * the same fold the stored projection uses, which may lag); null only in rows not yet read from the log.
   */
  summary: SessionSummary | null;
}

/** GET /api/sessions/:id and each row of GET /api/sessions. */
export interface SessionView extends RunView {
  dataset: string;
  split: 'train' | 'test';
  rate: number | null;
  limit: number | null;
  /** Samples the session runs (known once it started). */
  sampleCount: number | null;
  demo: boolean;
}

/**
 * Where a session's time went, summed over its samples on the node that ran it: server-side sections,
 * device compute, transport (waiting for replies beyond device compute) and waiting for the log.
 */
export interface SessionRunStats {
  samples: number;
  /** The samples' events; the run's own (start, end, devices absent) are in the log too (summary.events counts all). */
  events: number;
  durationMs: number;
  /** Time running the samples alone (without loading the model, deploying and warming up the devices). */
  pipelineMs: number;
  /** Sums over the samples, which overlap (several in flight): not wall-clock time; divide by `samples`. */
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
