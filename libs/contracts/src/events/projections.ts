/**
 * Read models the projections build from the event log (libs/events); shaped for the dashboard and the REST
 * API. Both are rebuilt from the log on demand, and the rebuild equals the live result.
 */
import type { DeviceRole, EntropyPolicySpec, ExitTier, PayloadKind, SessionMode } from './catalogue';

export type SessionProjectionStatus = 'running' | 'completed' | 'aborted';

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
  deviceId: string;
  view: number | null;
  /** Device sections evaluated on the live path (answers that arrived in time). */
  answered: number;
  /** Samples the device did not answer in time (DeviceMissed). */
  missed: number;
  missedByReason: { timeout: number; disconnected: number; error: number };
  /** Mean latency of the answered sections, null before the first. */
  meanLatencyMs: number | null;
  /** Sum behind meanLatencyMs (kept so that the mean stays exact across batches). */
  latencyMsTotal: number;
}

export interface SessionProjection {
  sessionId: string;
  status: SessionProjectionStatus;
  modelId: string | null;
  dataset: string | null;
  split: 'train' | 'test' | null;
  mode: SessionMode | null;
  policy: EntropyPolicySpec | null;
  classes: string[];
  /** Samples the session planned (SessionStarted.sampleCount). */
  sampleCount: number;
  /** Samples started. */
  samples: number;
  /** Samples with a live exit decision (answered at some tier). */
  answered: number;
  /** Answered samples whose label is known. */
  labelled: number;
  correct: number;
  /** correct / labelled, null while no label is known. */
  accuracy: number | null;
  exits: Record<ExitTier, ExitTierStats>;
  bytes: { total: number; links: LinkBytes[] };
  devices: DeviceSessionStats[];
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  abortReason: string | null;
  /** Events applied, and the log checkpoint of the last one. */
  events: number;
  lastEventAt: string | null;
  checkpoint: string | null;
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
  /** Samples missed by this device, across sessions. */
  missed: number;
  checkpoint: string | null;
}
