/**
 * Events of a run, in the stream `session-<sessionId>` (a research run over a dataset) or `stream-<runId>` (a
 * production stream starts with StreamStarted and then logs the same sample events): its start, each sample's
 * sections, exits, bytes and misses, and its end.
 */

/** Where a section runs: an end device, the local aggregator, an edge node, or the cloud. */
export type Tier = 'device' | 'local' | 'edge' | 'cloud';
/** An exit point of the hierarchy. */
export type ExitTier = 'local' | 'edge' | 'cloud';
export type PayloadKind = 'scores' | 'features' | 'raw';
export type SessionMode = 'production' | 'research';
export const SESSION_MODES: readonly SessionMode[] = ['production', 'research'];

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
/** One section's output for a sample. */
export interface SectionOutput {
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
/** One section of a sample: what logs written before SectionsEvaluated hold, one event per section. */
export interface SectionEvaluated extends SectionOutput {
  sessionId: string;
  sampleIndex: number;
}
/**
 * The sections a sample evaluated before its next exit decision (its devices and the local aggregator, then the
 * edges and the cloud), in the order they ran: one event where each section used to log its own. Six cameras'
 * sections were most of a sample's events, and each event costs a row, an index entry and a parse on every read.
 */
export interface SectionsEvaluated {
  sessionId: string;
  sampleIndex: number;
  sections: SectionOutput[];
}

/** A sample's sections as one event of either shape records them. */
export interface SampleSections {
  sessionId: string;
  sampleIndex: number;
  sections: readonly SectionOutput[];
}

/** The event types that record sections: today's, and the one logs written before it hold. */
export const SECTION_EVENT_TYPES = ['SectionsEvaluated', 'SectionEvaluated'] as const;

/**
 * The sections an event records: a SectionsEvaluated's list, or the one section of a SectionEvaluated (logs written
 * before SectionsEvaluated); null for any other event. Every reader of sections goes through here.
 */
export function sampleSections(e: { type: string; data: unknown }): SampleSections | null {
  if (e.type === 'SectionsEvaluated') return e.data as SectionsEvaluated;
  if (e.type !== 'SectionEvaluated') return null;
  const d = e.data as SectionEvaluated;
  return { sessionId: d.sessionId, sampleIndex: d.sampleIndex, sections: [d] };
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
/** One message over one link of the hierarchy for a sample. */
export interface LinkMessage {
  /** Node ids: device id, edge name, `local` or `cloud`. */
  from: string;
  to: string;
  kind: PayloadKind;
  bytes: number;
  /** Shadow traffic (research mode) is logged but not counted as transferred. */
  shadow: boolean;
}
/** One message of a sample: what logs written before MessagesTransferred hold, one event per message. */
export interface BytesTransferred extends LinkMessage {
  sessionId: string;
  sampleIndex: number;
}
/** Every message of one sample, in the order sent: one event where a sample used to log one per message. */
export interface MessagesTransferred {
  sessionId: string;
  sampleIndex: number;
  messages: LinkMessage[];
}

/** A sample's traffic as one event of either shape records it. */
export interface SampleTraffic {
  sessionId: string;
  sampleIndex: number;
  messages: readonly LinkMessage[];
}

/** The event types that record link messages: today's, and the one logs written before it hold. */
export const TRAFFIC_EVENT_TYPES = ['MessagesTransferred', 'BytesTransferred'] as const;

/**
 * The link messages an event records: a MessagesTransferred's list, or the one message of a BytesTransferred (logs
 * written before MessagesTransferred); null for any other event. Every reader of traffic goes through here.
 */
export function sampleTraffic(e: { type: string; data: unknown }): SampleTraffic | null {
  if (e.type === 'MessagesTransferred') return e.data as MessagesTransferred;
  if (e.type !== 'BytesTransferred') return null;
  const { sessionId, sampleIndex, from, to, kind, bytes, shadow } = e.data as BytesTransferred;
  return { sessionId, sampleIndex, messages: [{ from, to, kind, bytes, shadow }] };
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
 * Nothing reached the exit that had to answer the sample, so it has no answer and is not counted as decided, right
 * or wrong: no device answered it (every one missed it, or skipped its capture; logged after its local check with
 * exited false and prediction -1), or the local exit was unsure and no device that answered delivered its features
 * (logged after its DeviceMissed at the features stage). An edge or cloud section fed nothing would answer from its
 * biases alone, the same class whatever happened.
 */
export interface SampleUnanswered {
  sessionId: string;
  sampleIndex: number;
  /** As its SampleStarted. */
  label: number | null;
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
