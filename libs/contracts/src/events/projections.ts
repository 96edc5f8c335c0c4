/**
 * Read models folded from the event log; shaped for the dashboard and the REST API. The projections (libs/events)
 * keep them in tables and rebuild them from the log on demand, and the rebuild equals the live result.
 */
import type { DeviceRole, EntropyPolicySpec, ExitTier, MissReason, PayloadKind, SessionMode, StreamGap, StreamGapCause } from './catalogue';

export type SessionSummaryStatus = 'running' | 'completed' | 'aborted';
/** A research session over a dataset, or a production stream (no dataset, no end, labels later). */
export type RunKind = 'session' | 'stream';

/** A decided sample's answer, as the summary of a stream remembers its latest ones (see recentDecisions). */
export interface RecentDecision {
  sampleIndex: number;
  tier: ExitTier;
  prediction: number;
}

/** Live (non-shadow) exits at one tier. */
export interface ExitTierStats {
  /** Samples answered at this tier. */
  exited: number;
  /** Of those, samples whose label is known. */
  labelled: number;
  /** Of those, correct predictions. */
  correct: number;
}

/** Bytes sent over one link, one payload kind (non-shadow traffic only). */
export interface LinkBytes {
  from: string;
  to: string;
  kind: PayloadKind;
  messages: number;
  bytes: number;
}

/** One end device within one session. */
export interface DeviceSessionStats {
  view: number | null;
  /** Device sections evaluated on the live path (answers that arrived in time). */
  answered: number;
  /** Samples the device did not answer in time (DeviceMissed). */
  missed: number;
  missedByReason: Record<MissReason, number>;
  /** Mean latency of the answered sections, null before the first. */
  meanLatencyMs: number | null;
  /** Sum behind meanLatencyMs (kept so that the mean stays exact across batches). */
  latencyMsTotal: number;
}

/**
 * What a session did, folded from its events alone by `foldSessionSummary` (libs/contracts). The API folds it
 * to the head of the log on demand; the projections subscription (libs/events) stores the same fold in
 * `session_summaries`. Counted bytes exclude shadow traffic; `bytes.shadowTotal` holds research-mode extras.
 */
export interface SessionSummary {
  sessionId: string;
  /** 'stream' once StreamStarted is folded (absent in summaries stored before streams existed: a session). */
  kind?: RunKind;
  status: SessionSummaryStatus;
  modelId: string | null;
  dataset: string | null;
  split: 'train' | 'test' | null;
  mode: SessionMode | null;
  policy: EntropyPolicySpec | null;
  classes: string[];
  /** Samples the session planned (SessionStarted.sampleCount). */
  sampleCount: number;
  samplesStarted: number;
  /** Samples with a live exit decision (answered at some tier). */
  samplesDecided: number;
  /**
   * Samples that ended without an answer (SampleUnanswered): nothing reached an exit that could answer. Not decided, so in no
   * accuracy; absent in summaries stored before it existed (read it as 0).
   */
  unanswered?: number;
  /** Decided samples whose label is known (from the dataset, or a SampleLabelled matched to the decision). */
  labelled: number;
  correct: number;
  /** correct / labelled, null while nothing labelled was decided. */
  accuracy: number | null;
  /** Streams: samples triggered per second (StreamStarted.rate); null for sessions. */
  rate?: number | null;
  /** Highest sample index folded (SampleStarted), null before the first: streams number samples upwards. */
  lastSampleIndex?: number | null;
  /** SampleLabelled events folded. */
  labelsReceived?: number;
  /** Labels whose sample was not decided yet when folded, by sample index: they count once it is. */
  pendingLabels?: Record<string, number>;
  /**
   * Streams: the answers of the latest decided samples (at most RECENT_DECISIONS), so a label that raced its
   * sample's commit (checked undecided, logged after the decision) still finds it. Bounded: a stream never ends.
   */
  recentDecisions?: RecentDecision[];
  /**
   * Streams: the latest samples without an answer (at most RECENT_DECISIONS), so a label that raced its sample's
   * SampleUnanswered (checked undecided, logged after it) is dropped, not left pending for ever.
   */
  recentUnanswered?: number[];
  exits: Record<ExitTier, ExitTierStats>;
  bytes: {
    /** Counted (non-shadow) bytes. */
    total: number;
    /** Shadow bytes (research mode), not counted in total. */
    shadowTotal: number;
    /** total / samplesDecided, null before the first decision. */
    perSample: number | null;
    /** Counted bytes by link and payload kind, sorted by from, to, kind. */
    links: LinkBytes[];
  };
  /** By device id. */
  devices: Record<string, DeviceSessionStats>;
  /** DeviceMissed events, over all devices. */
  missed: number;
  /** Devices the session started or resumed without (SessionDevicesAbsent), in order first seen. */
  ranWithout: string[];
  /** Streams: triggers that never fired (StreamGap); absent until the first gap. */
  gaps?: StreamGapsSummary;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  abortReason: string | null;
  /** Events folded in, and the log checkpoint of the last one. */
  events: number;
  lastEventAt: string | null;
  checkpoint: string | null;
}

/** What a stream's gaps add up to. */
export interface StreamGapTotals {
  /** Triggers that never fired, by cause. */
  missedTriggers: Record<StreamGapCause, number>;
  /** Outages (StreamGap with cause `outage`) and the time they lasted, ms. */
  outages: number;
  outageMs: number;
}

/** A stream's gaps as its summary keeps them: totals, and the latest few to show. */
export interface StreamGapsSummary extends StreamGapTotals {
  /** The latest gaps, oldest first (at most RECENT_GAPS). */
  recent: Omit<StreamGap, 'sessionId'>[];
}

/** Observed health, apart from operator intent: ThingsBoard/EdgeX style. */
export type DeviceConnectivity = 'never-connected' | 'active' | 'inactive' | 'disconnected';

export interface DeployedSection {
  section: string;
  modelId: string;
  modelVersion: string;
  bytes: number;
  deployedAt: string;
}

export interface DeviceStatus {
  deviceId: string;
  name: string;
  role: DeviceRole | null;
  view: number | null;
  profileId: string | null;
  simulated: boolean;
  registered: boolean;
  connectivity: DeviceConnectivity;
  /** API node holding the device's socket while connected. */
  node: string | null;
  registeredAt: string | null;
  lastConnectAt: string | null;
  lastDisconnectAt: string | null;
  lastDisconnectReason: string | null;
  lastActivityAt: string | null;
  /** Deployed sections by section name, latest deployment each. */
  sections: DeployedSection[];
  /** Live device sections this device answered (non-shadow device sections of SectionsEvaluated, or SectionEvaluated in older logs), across sessions. */
  answered: number;
  /** DeviceMissed of this device across sessions, whatever the reason (skipped captures included). */
  missed: number;
  /** Of `missed`, skipped captures (reason NOT_CAPTURED): nothing was captured, so nothing was asked of the device. */
  notCaptured: number;
  /** DeviceConnected / DeviceDisconnected events so far: how often its link came and went. */
  connects: number;
  disconnects: number;
  checkpoint: string | null;
}
