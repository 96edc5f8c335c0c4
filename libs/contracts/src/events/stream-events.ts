/** What only production streams log: their start and labels that arrive after the fact. */
import type { EntropyPolicySpec, ExitTier, MessageSizes, SessionConfiguration, SessionMode, SessionStarted, SessionTopology } from './session-events';

/**
 * A production stream started (or resumed with nothing logged yet) on a node: what it runs, how often and how
 * closely device captures must match a trigger. Its samples follow as in a session; it ends with SessionCompleted
 * (stopped by an operator) or SessionAborted (failed).
 */
export interface StreamStarted {
  /** The run id (the same key as a session's, so summaries and samples read alike). */
  sessionId: string;
  modelId: string;
  classes: string[];
  topology: SessionTopology;
  policy: EntropyPolicySpec;
  mode: SessionMode;
  deadlineMs: number;
  /** Samples triggered per second. */
  rate: number;
  /** A device capture farther than this from its trigger time is a skipped (stale) capture. */
  captureToleranceMs: number;
  /** The dataset split devices without a live source replay, if any (see CreateStreamRequest.replay). */
  replay?: { dataset: string; split: 'train' | 'test' };
  messageSizes: MessageSizes;
  name?: string;
  tags?: string[];
  configuration?: SessionConfiguration;
}
/**
 * A label for one sample of a run, known after the fact (POST /api/streams/:id/labels). `decision` is the
 * sample's answering exit when it was already in the log as the label was posted; without it the fold
 * matches the label to the sample's ExitDecided when (or if already) that is folded.
 */
export interface SampleLabelled {
  sessionId: string;
  sampleIndex: number;
  /** Class index. */
  label: number;
  /** When the label was posted (epoch ms). */
  labelledAt: number;
  decision?: { tier: ExitTier; prediction: number };
}
/**
 * Why a stream's triggers did not fire: `outage` — nothing ran it (its node died or restarted, or the database was
 * down) until a node resumed it; `backlog` — samples in flight filled the stream's window (devices, the log or the
 * engine slower than the rate), so the schedule restarted from now; `stall` — the node's event loop stalled longer
 * than the catch-up limit, and the triggers past it were given up.
 */
export const STREAM_GAP_CAUSES = ['outage', 'backlog', 'stall'] as const;
export type StreamGapCause = (typeof STREAM_GAP_CAUSES)[number];

/**
 * Triggers of a stream that never fired, due between `from` and `to` (epoch ms, the server's clock): an outage is
 * logged once, as the stream resumes (from the trigger of the last sample logged before it); backlogs and stalls
 * are counted and logged a minute after the first drop at most (and at the stream's end) rather than one event per
 * trigger, so a node that cannot keep up does not also flood its log.
 */
export interface StreamGap {
  sessionId: string;
  cause: StreamGapCause;
  from: number;
  to: number;
  /** Triggers the rate asked for in [from, to) that never fired (for an outage: the gap times the rate, less the one that resumes it). */
  missedTriggers: number;
  /** The index of the first sample triggered after the gap (at a stream's end: the index the next would have had). */
  nextSample: number;
}

/** The dataset name a stream's scores requests carry: devices capture from their own live source instead. */
export const LIVE_DATASET = 'live';

/**
 * A stream's start read as a session's, for what reads runs alike (per-sample tables, replay): a stream has no
 * dataset (the replayed one if any, else '') and no sample count (0: it has no end).
 */
export function sessionStartOfStream(s: StreamStarted): SessionStarted {
  return {
    sessionId: s.sessionId,
    modelId: s.modelId,
    dataset: s.replay?.dataset ?? '',
    split: s.replay?.split ?? 'test',
    classes: s.classes,
    sampleCount: 0,
    topology: s.topology,
    policy: s.policy,
    mode: s.mode,
    deadlineMs: s.deadlineMs,
    messageSizes: s.messageSizes,
    ...(s.name !== undefined ? { name: s.name } : {}),
    ...(s.tags !== undefined ? { tags: s.tags } : {}),
    ...(s.configuration ? { configuration: s.configuration } : {}),
  };
}
