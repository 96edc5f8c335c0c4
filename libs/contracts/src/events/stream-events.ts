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
