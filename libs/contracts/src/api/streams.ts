import type { EntropyPolicySpec, SessionConfiguration, SessionMode, SessionTopology } from '../events/catalogue';
import type { RunView, SessionStatus } from './sessions';

/**
 * POST /api/streams: a production run with no dataset and no end. Every `1 / rate` seconds the server triggers
 * a capture on each device of the topology (each from its own live source) and runs the sample through the
 * hierarchy; it runs until stopped (POST /api/streams/:id/stop), surviving restarts and node death.
 */
export interface CreateStreamRequest {
  modelId: string;
  topology: SessionTopology;
  policy: EntropyPolicySpec;
  /** Samples triggered per second (0 < rate <= MAX_STREAM_RATE). */
  rate: number;
  /** How long a device may take to answer one request before it counts as missed. */
  deadlineMs: number;
  /** Default 'production' (only the live path); 'research' also computes shadow exits. */
  mode?: SessionMode;
  name?: string;
  tags?: string[];
  note?: string;
  /** The simulation (POST /api/simulations, on this node) whose devices the topology uses. */
  simulationId?: string;
  /**
   * What devices without a live source (`dataset` source agents, simulated devices) replay: sample i of the
   * stream asks for sample i mod n of the split (its label is not used: streams are unlabelled). Devices on a
   * live source (folder, push, ffmpeg) capture from it whatever this says. Omitted: scores requests name the
   * dataset LIVE_DATASET, which only live sources answer.
   */
  replay?: { dataset: string; split: 'train' | 'test' };
}

/**
 * How far from its trigger a device's capture may be, by default (DDNN_CAPTURE_TOLERANCE_MS): farther, it is a
 * skipped (stale) capture. The device agent's default maximum frame age is the same, so that a frame the agent
 * passes on is not one the server refuses.
 */
export const DEFAULT_CAPTURE_TOLERANCE_MS = 500;
/**
 * Most samples per second a stream may ask for: a bound on a request, not on the engine (a stream that cannot keep
 * up drops triggers and says so). At 1000 a stream held its rate on 1.4 of this machine's 2 cores (bench:stream):
 * the cap, not the platform, set the figure.
 */
export const MAX_STREAM_RATE = 5000;
/**
 * The slowest rate a run may ask for (a sample every 1,000 s): below it a run is stalled rather than slow, holding
 * one of a node's DDNN_MAX_SESSIONS slots while it does nothing.
 */
export const MIN_RUN_RATE = 0.001;

/** What the server records with a stream at creation. */
export interface StreamSpec extends CreateStreamRequest {
  configuration?: SessionConfiguration;
}

/**
 * GET /api/streams/:id and each row of GET /api/streams. `summary` is folded from the stream's log (stream
 * `stream-<id>`) with the same fold as sessions': samplesDecided, exits, bytes, devices' answers and misses
 * (missedByReason.skipped counts skipped and stale captures), and accuracy on the labelled samples.
 */
export interface StreamView extends RunView {
  kind: 'stream';
  /** pending -> running -> stopped (by an operator) or failed. */
  status: SessionStatus;
  rate: number;
  /** A capture farther than this from its trigger is a skipped (stale) capture (DDNN_CAPTURE_TOLERANCE_MS). */
  captureToleranceMs: number;
  replay: { dataset: string; split: 'train' | 'test' } | null;
}

/** GET /api/streams?status=&limit=&offset= */
export interface StreamListQuery {
  status?: SessionStatus;
  limit?: number;
  offset?: number;
}

export interface StreamList {
  items: StreamView[];
  total: number;
  limit: number;
  offset: number;
}

/** GET /api/streams/:id/events?after=CHECKPOINT&limit=N answers a SessionEventsPage of the stream's log. */

/** One label: a sample of the stream and its class (index, or name as in the model's classes). */
export interface StreamLabel {
  sampleIndex: number;
  label: number | string;
}

/** POST /api/streams/:id/labels takes a JSON array of at most MAX_LABELS_PER_REQUEST labels. */
export const MAX_LABELS_PER_REQUEST = 1000;

/**
 * What became of each label, in request order: `labelled` (a SampleLabelled event was logged), `unchanged`
 * (the sample already had this label: posting again is idempotent), `pending` (labelled, its sample not yet
 * decided: it counts once it is), or `unanswered` (the sample ended without an answer, a SampleUnanswered, so there
 * is nothing to be right or wrong: nothing is logged). A label that contradicts an earlier one for the same sample refuses the whole
 * request with 409; an unknown sample index or class with 400/422, nothing logged.
 */
export interface LabelStreamResponse {
  results: { sampleIndex: number; label: number; status: 'labelled' | 'unchanged' | 'pending' | 'unanswered' }[];
  /** Accuracy on labelled samples after these labels (the summary folded to the head of the log). */
  accuracy: number | null;
  labelled: number;
}
