/**
 * The event catalogue: every fact the platform records. Streams: `device-<deviceId>`,
 * `session-<sessionId>` (a research run over a dataset), `stream-<runId>` (a production stream: no dataset, no
 * end; its events are the ones retention may drop by age), `model-<modelId>`, `alert-<ruleId>` (a rule's life and
 * its alerts' state changes). Documented with examples in docs/events.md.
 * A changed payload gets a new schemaVersion and an upcaster in libs/events; never edit a version in place.
 */

import type { AlertRuleSpec, AlertSeverity } from '../api/alerts';

export type DeviceRole = 'end-device' | 'edge';
/** Where a section runs: an end device, the local aggregator, an edge node, or the cloud. */
export type Tier = 'device' | 'local' | 'edge' | 'cloud';
/** An exit point of the hierarchy. */
export type ExitTier = 'local' | 'edge' | 'cloud';
export type PayloadKind = 'scores' | 'features' | 'raw';
export type SessionMode = 'production' | 'research';

export interface DeviceRegistered {
  deviceId: string;
  name: string;
  role: DeviceRole;
  view: number | null;
  profileId: string;
  capabilities: Record<string, unknown>;
  simulated: boolean;
}
export interface DeviceConnected {
  deviceId: string;
  /** The API node that holds the socket. */
  node: string;
  remoteAddress: string | null;
}
export interface DeviceDisconnected {
  deviceId: string;
  node: string;
  reason: string;
}
export interface DeviceWentInactive {
  deviceId: string;
  lastActivityAt: string;
  timeoutMs: number;
}
export interface ModelDeployed {
  deviceId: string;
  modelId: string;
  modelVersion: string;
  /** Section name from the checkpoint: `device-<view>`, `edge-<name>`, `local`, `cloud`. */
  section: string;
  bytes: number;
}
/** Per message sizes used for byte accounting; fixed by the model for a session. */
export interface MessageSizes {
  /** |C| float32 scores: 4|C| bytes. */
  scoresBytes: number;
  /** Bit-packed binary feature map of one device: ceil(f*o/8) bytes. */
  featuresBytes: number;
  /** One raw view (H*W*C bytes), the raw-offload baseline. */
  rawBytes: number;
  /** Bit-packed features an edge node sends to the cloud, when there is an edge tier. */
  edgeFeaturesBytes?: number;
}
export interface SessionTopology {
  /** End devices: which device serves which camera view. */
  devices: { deviceId: string; view: number; edge?: string }[];
  /** Optional edge tier: edge name -> serving device id (null = simulated in the server). */
  edges?: { name: string; deviceId: string | null }[];
}
export interface EntropyPolicySpec {
  kind: 'entropy';
  thresholds: { local: number; edge?: number };
}
export interface SessionStarted {
  sessionId: string;
  modelId: string;
  dataset: string;
  split: 'train' | 'test';
  classes: string[];
  sampleCount: number;
  topology: SessionTopology;
  policy: EntropyPolicySpec;
  mode: SessionMode;
  deadlineMs: number;
  messageSizes: MessageSizes;
  /** Run name and tags when it started (absent in sessions logged before runs had them). */
  name?: string;
  tags?: string[];
  /** The rest of the configuration it ran with (absent in sessions logged before it was recorded). */
  configuration?: SessionConfiguration;
}
/** Link model of simulated devices: each message costs latencyMs + bytes * 8 / bandwidthKbps ms. */
export interface SessionLinkSettings {
  latencyMs: number;
  bandwidthKbps: number;
}
/** A failure injected into a simulated device (its index in the simulation, from a sample on). */
export interface SessionInjectedFailure {
  device: number;
  atSample: number;
  kind: 'crash' | 'slow' | 'flaky';
}
/** A device of the topology as it was registered when the session started (names outlive deleted devices). */
export interface SessionDeviceIdentity {
  deviceId: string;
  name: string;
  simulated: boolean;
}
export interface SessionConfiguration {
  limit: number | null;
  rate: number | null;
  devices: SessionDeviceIdentity[];
  /** Simulated link; null = devices answer as fast as they compute (or a real network, unmodelled). */
  link: SessionLinkSettings | null;
  failures: SessionInjectedFailure[];
}
export interface SampleStarted {
  sessionId: string;
  sampleIndex: number;
  sampleId: string;
  /** Class index when the dataset knows it (null on streams: labels arrive later as SampleLabelled). */
  label: number | null;
  /** Streams: when the server triggered the devices' captures (epoch ms); their capturedAt is matched to it. */
  triggeredAt?: number;
}
export interface SectionEvaluated {
  sessionId: string;
  sampleIndex: number;
  tier: Tier;
  /** Device id, edge name, `local` or `cloud`. */
  node: string;
  /** Camera view for device sections. */
  view?: number;
  /** When the device captured the frame it scored (epoch ms), for device sections whose agent reports it. */
  capturedAt?: number;
  probabilities: number[];
  /** Normalized entropy of `probabilities`, in [0, 1]. */
  entropy: number;
  latencyMs: number;
  /** Computed only so other policies can be evaluated later (research mode): not on the live path. */
  shadow: boolean;
}
export interface ExitDecided {
  sessionId: string;
  sampleIndex: number;
  tier: ExitTier;
  eta: number;
  /** Threshold applied; null at the last exit, which always answers. */
  threshold: number | null;
  policy: string;
  exited: boolean;
  prediction: number;
  label: number | null;
  shadow: boolean;
}
export interface BytesTransferred {
  sessionId: string;
  sampleIndex: number;
  /** Node ids: device id, edge name, `local` or `cloud`. */
  from: string;
  to: string;
  kind: PayloadKind;
  bytes: number;
  /** Shadow traffic (research mode) is logged but not counted as transferred. */
  shadow: boolean;
}
export interface DeviceMissed {
  sessionId: string;
  sampleIndex: number;
  deviceId: string;
  view: number;
  stage: 'scores' | 'features';
  deadlineMs: number;
  reason: MissReason;
  /** Why, in a few words (a reply's defect for `invalid`); absent in events written before it existed. */
  detail?: string;
}
/**
 * Why a device answer did not count: no reply in time, the device was not (or no longer) connected, the device
 * reported a failure, its reply was malformed or implausible (wrong size, non-finite values, absurd latency), or
 * it skipped the capture (busy with the previous frame, newest frame too old, or its live source failing).
 */
export type MissReason = 'timeout' | 'disconnected' | 'error' | 'invalid' | 'skipped';
export const MISS_REASONS: readonly MissReason[] = ['timeout', 'disconnected', 'error', 'invalid', 'skipped'];
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
export interface SessionCompleted {
  sessionId: string;
  samples: number;
  durationMs: number;
}
/**
 * Devices of the topology still not connected when the session (re)started on a node, after waiting for them
 * up to `waitedMs`: the session runs without them (their samples are DeviceMissed) until they come back.
 */
export interface SessionDevicesAbsent {
  sessionId: string;
  deviceIds: string[];
  waitedMs: number;
  /** Samples already in the log when the node started the session (0 on a first start). */
  fromSample: number;
  /** True when the node resumed a session another run had started. */
  resumed: boolean;
}
export interface SessionAborted {
  sessionId: string;
  reason: string;
  samplesDone: number;
}

/**
 * Alerting (apps/api/src/monitoring/alerts): a rule's life and every state change of its alerts, in the stream
 * `alert-<ruleId>` (kept forever, so alerts replay like everything else). The rule's shape is in
 * libs/contracts/src/api/alerts.ts; the events carry the whole rule as it was, so a replay needs no table.
 */
export interface AlertRuleCreated {
  ruleId: string;
  rule: AlertRuleSpec;
}
export interface AlertRuleUpdated {
  ruleId: string;
  rule: AlertRuleSpec;
}
export interface AlertRuleDeleted {
  ruleId: string;
}
/** What an alert is about: a run (session or stream), a device, or the platform (subjectKey `all`). */
export interface AlertSubjectRef {
  runId?: string;
  deviceId?: string;
}
interface AlertStateChange {
  alertId: string;
  ruleId: string;
  subject: AlertSubjectRef;
  severity: AlertSeverity;
  /** The metric's value that caused the change (null when the subject vanished). */
  value: number | null;
}
/** The condition holds; it must hold for the rule's `forMs` before the alert fires. */
export type AlertPending = AlertStateChange;
/** The condition held for `forMs` (or at once when `forMs` is 0): notifications go out. */
export type AlertFiring = AlertStateChange;
/**
 * The alert closed: the clear condition held after it fired, or the condition stopped holding before it fired
 * (`wasFiring` false), or the subject is gone, or the rule was deleted or disabled (`reason`).
 */
export interface AlertResolved extends AlertStateChange {
  wasFiring: boolean;
  reason: 'cleared' | 'condition-gone' | 'subject-gone' | 'rule-deleted' | 'rule-disabled';
}
export interface AlertAcknowledged {
  alertId: string;
  ruleId: string;
  note: string | null;
}
/** Notifications of this alert (and of the next one for the same rule and subject) are muted until `until`. */
export interface AlertSilenced {
  alertId: string;
  ruleId: string;
  /** ISO time; a time in the past lifts the silence. */
  until: string;
}

/** Event type name -> payload, at the current schema version. */
export interface EventCatalogue {
  DeviceRegistered: DeviceRegistered;
  DeviceConnected: DeviceConnected;
  DeviceDisconnected: DeviceDisconnected;
  DeviceWentInactive: DeviceWentInactive;
  ModelDeployed: ModelDeployed;
  SessionStarted: SessionStarted;
  SampleStarted: SampleStarted;
  SectionEvaluated: SectionEvaluated;
  ExitDecided: ExitDecided;
  BytesTransferred: BytesTransferred;
  DeviceMissed: DeviceMissed;
  SessionCompleted: SessionCompleted;
  SessionAborted: SessionAborted;
  SessionDevicesAbsent: SessionDevicesAbsent;
  StreamStarted: StreamStarted;
  SampleLabelled: SampleLabelled;
  AlertRuleCreated: AlertRuleCreated;
  AlertRuleUpdated: AlertRuleUpdated;
  AlertRuleDeleted: AlertRuleDeleted;
  AlertPending: AlertPending;
  AlertFiring: AlertFiring;
  AlertResolved: AlertResolved;
  AlertAcknowledged: AlertAcknowledged;
  AlertSilenced: AlertSilenced;
}
export type EventType = keyof EventCatalogue;

/** Current schema version of each event type. */
export const EVENT_SCHEMA_VERSIONS: { [K in EventType]: number } = {
  DeviceRegistered: 1,
  DeviceConnected: 1,
  DeviceDisconnected: 1,
  DeviceWentInactive: 1,
  ModelDeployed: 1,
  SessionStarted: 1,
  SampleStarted: 1,
  SectionEvaluated: 1,
  ExitDecided: 1,
  BytesTransferred: 1,
  DeviceMissed: 1,
  SessionCompleted: 1,
  SessionAborted: 1,
  SessionDevicesAbsent: 1,
  StreamStarted: 1,
  SampleLabelled: 1,
  AlertRuleCreated: 1,
  AlertRuleUpdated: 1,
  AlertRuleDeleted: 1,
  AlertPending: 1,
  AlertFiring: 1,
  AlertResolved: 1,
  AlertAcknowledged: 1,
  AlertSilenced: 1,
};

export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  /** API node or device process that produced the event. */
  node?: string;
  deviceId?: string;
}

/** An event to append. */
export type NewEvent<K extends EventType = EventType> = {
  [T in K]: { type: T; data: EventCatalogue[T]; eventId?: string; metadata?: EventMetadata };
}[K];

/** An event as stored, upcast to the current schema version. */
export type StoredEvent<K extends EventType = EventType> = {
  [T in K]: {
    type: T;
    data: EventCatalogue[T];
    eventId: string;
    streamId: string;
    streamPosition: number;
    /** Global position (bigint as a decimal string). */
    globalPosition: string;
    /** Opaque, ordered read checkpoint (`<xid>:<position>`); resume readAll/subscribe after it. */
    checkpoint: string;
    schemaVersion: number;
    metadata: EventMetadata;
    createdAt: string;
  };
}[K];

export const streamIds = {
  device: (deviceId: string) => `device-${deviceId}`,
  session: (sessionId: string) => `session-${sessionId}`,
  model: (modelId: string) => `model-${modelId}`,
  /** A production stream's events: the only ones retention drops by age (see isStreamEventStream). */
  stream: (runId: string) => `stream-${runId}`,
  alert: (ruleId: string) => `alert-${ruleId}`,
};

/** Whether a log stream holds a production stream's events (droppable by age); every other stream is kept. */
export function isStreamEventStream(streamId: string): boolean {
  return streamId.startsWith('stream-');
}

/** The dataset name a stream's scores requests carry: devices capture from their own live source instead. */
export const LIVE_DATASET = 'live';

/**
 * Which exit answered a sample: its live (non-shadow) exit check that exited. The exit core (libs/policies)
 * emits exactly one such check per finished sample; every reader (summary, replay, analysis, export) uses this.
 */
export function answersSample(d: Pick<ExitDecided, 'shadow' | 'exited'>): boolean {
  return !d.shadow && d.exited;
}

/** Checkpoint section names: one per end device view, one per edge, `local` and `cloud`. */
export const sectionName = {
  device: (view: number) => `device-${view}`,
  edge: (name: string) => `edge-${name}`,
  local: 'local',
  cloud: 'cloud',
} as const;

// The projections' read models (session summary, device status) belong with the events that build them.
export * from './projections';

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
