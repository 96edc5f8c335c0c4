/**
 * Replay-based policy analysis: exit policies in their JSON form and the results of evaluating them
 * counterfactually on a recorded session. Validation (zod) and evaluation live in @ddnn/policies.
 */
import type { ExitTier, PayloadKind } from './events/catalogue';

/** The statistic a threshold policy compares at each exit. */
export type ThresholdStatistic = 'entropy' | 'confidence' | 'margin';

/** One threshold per exit that can exit early; no edge threshold = the edge exit is never taken. */
export interface ExitThresholds {
  local: number;
  edge?: number;
}

/** The paper's rule: exit iff normalized entropy < T. */
export interface EntropyPolicy {
  kind: 'entropy';
  name?: string;
  thresholds: ExitThresholds;
}
/** Exit iff the top class probability > T. */
export interface ConfidencePolicy {
  kind: 'confidence';
  name?: string;
  thresholds: ExitThresholds;
}
/** Exit iff top-1 minus top-2 probability > T. */
export interface MarginPolicy {
  kind: 'margin';
  name?: string;
  thresholds: ExitThresholds;
}
/** Every sample answered by the local aggregator: devices send scores only. */
export interface AlwaysLocalPolicy {
  kind: 'always-local';
  name?: string;
}
/** Every sample goes through every tier to the cloud exit. */
export interface AlwaysCloudPolicy {
  kind: 'always-cloud';
  name?: string;
}
/** Baseline: each present device sends its raw view to the cloud, which answers. */
export interface RawOffloadPolicy {
  kind: 'raw-offload';
  name?: string;
}
/** Thresholds fitted on one session to maximize accuracy under a bytes or local-exit constraint. */
export interface BudgetPolicy {
  kind: 'budget';
  name?: string;
  statistic: ThresholdStatistic;
  /** Average bytes per sample (all links) must not exceed this. */
  maxBytesPerSample?: number;
  /** Fraction of samples answered locally must be at least this. */
  minLocalExitRate?: number;
  /** Set by fitting; evaluating an unfitted budget policy is an error. */
  fitted?: BudgetFit;
}
export interface BudgetFit {
  thresholds: ExitThresholds;
  sessionId: string;
  samples: number;
  accuracy: number;
  bytesPerSample: number;
  localExitRate: number;
}
export type PolicySpec =
  | EntropyPolicy
  | ConfidencePolicy
  | MarginPolicy
  | AlwaysLocalPolicy
  | AlwaysCloudPolicy
  | RawOffloadPolicy
  | BudgetPolicy;
/** One link's network: a message costs latencyMs + bytes * 8 / bandwidthKbps milliseconds. */
export interface LinkSpec {
  latencyMs: number;
  bandwidthKbps: number;
}
/**
 * Network model for latency estimates. Lookup order for a message from A to B: links["A->B"] (node ids),
 * then links["<tierA>-><tierB>"] (device, local, edge, cloud), then default, else free and instant.
 */
export interface LinkModel {
  default?: LinkSpec;
  links?: Record<string, LinkSpec>;
}

export interface ExitOutcome {
  tier: ExitTier;
  /** Samples answered at this exit. */
  exited: number;
  exitRate: number;
  /** Accuracy on the labelled samples answered here (null when none). */
  accuracy: number | null;
}
export interface LinkTraffic {
  from: string;
  to: string;
  kind: PayloadKind;
  messages: number;
  bytesPerSample: number;
}
export interface LatencySummary {
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}
export interface PolicyEvaluation {
  evaluable: true;
  sessionId: string;
  policy: PolicySpec;
  label: string;
  /** Samples the policy answers: the session's finished samples less `unanswered`. Rates and bytes are over these. */
  samples: number;
  /**
   * Samples the policy would leave without an answer: it sends them past the local exit, and none of their features
   * went on (every device that answered missed the features stage). A live run logs them as SampleUnanswered. In no
   * rate or accuracy; the scores their devices sent count in the bytes (per answered sample, as the live summary).
   */
  unanswered: number;
  labelledSamples: number;
  /** Over labelled samples; null when no sample has a label. */
  accuracy: number | null;
  exits: ExitOutcome[];
  localExitRate: number;
  /** Non-shadow bytes a live session with this policy would log, averaged over samples. */
  bytesPerSample: number;
  bytesByKind: Record<PayloadKind, number>;
  links: LinkTraffic[];
  latency: LatencySummary;
}
/** The session never computed what this policy needs (typically a production session). */
export interface PolicyNotEvaluable {
  evaluable: false;
  sessionId: string;
  policy: PolicySpec;
  label: string;
  reason: string;
  /** Per exit: samples for which this policy needs the exit's output but the session never computed it. */
  missing: { tier: ExitTier; samples: number }[];
}
export type PolicyResult = PolicyEvaluation | PolicyNotEvaluable;

export interface SweepPoint {
  threshold: number;
  evaluable: boolean;
  accuracy: number | null;
  localExitRate: number;
  exitRates: Partial<Record<ExitTier, number>>;
  bytesPerSample: number;
  meanLatencyMs: number;
}
/** Thresholds a sweep may take (GET /api/analysis/sweep?points=): 2 to this. */
export const MAX_SWEEP_POINTS = 2001;

export interface SweepResult {
  sessionId: string;
  statistic: ThresholdStatistic;
  points: SweepPoint[];
}

/** POST /api/analysis/compare */
export interface CompareRequest {
  sessionIds: string[];
  policies: PolicySpec[];
  linkModel?: LinkModel;
}
export type CompareRow = PolicyResult & { dominated?: boolean };
export interface CompareResponse {
  rows: CompareRow[];
}

/** Samples fromSample..toSample (sample indices, inclusive) of a run: the part of a stream compare evaluates. */
export interface SampleWindow {
  fromSample: number;
  toSample: number;
}
/** The most samples one window may span (a stream at 2 samples/s yields this in about 7 hours). */
export const MAX_WINDOW_SAMPLES = 50_000;

/** POST /api/analysis/compare also takes, optionally, the session unfitted budget policies are fitted on. */
export interface CompareRequestOptions {
  /** Default: each evaluated session itself (in-sample). */
  fitSessionId?: string;
  /**
   * Per run id: evaluate (and fit) on that window of its samples only. A stream has no end, so a stream run
   * needs one; a finished session without one is evaluated whole.
   */
  windows?: Record<string, SampleWindow>;
}


/** What the analysis CSV exports contain (GET /api/sessions/:id/export?what=). */
export type ExportWhat = 'samples' | 'events';
