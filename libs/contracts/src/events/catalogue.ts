/**
 * The event catalogue: every fact the platform records. Streams: `device-<deviceId>`,
 * `session-<sessionId>` (a research run over a dataset), `stream-<runId>` (a production stream: no dataset, no
 * end; its events are the ones retention may drop by age), `model-<modelId>`, `alert-<ruleId>` (a rule's life and
 * its alerts' state changes), `runs` (runs deleted by an operator). Documented with examples in docs/events.md.
 * The payloads live by domain (device-, session-, stream-, alert-, run-events.ts); this file names them and versions them.
 * A changed payload gets a new schemaVersion and an upcaster in libs/events; never edit a version in place.
 */

import type { AlertAcknowledged, AlertFiring, AlertPending, AlertResolved, AlertRuleCreated, AlertRuleDeleted, AlertRuleUpdated, AlertSilenced } from './alert-events';
import type { DeviceBecameActive, DeviceConnected, DeviceDisconnected, DeviceRegistered, DeviceWentInactive, ModelDeployed } from './device-events';
import type {
  BytesTransferred,
  DeviceMissed,
  ExitDecided,
  MessagesTransferred,
  SampleStarted,
  SampleUnanswered,
  SectionEvaluated,
  SectionsEvaluated,
  SessionAborted,
  SessionCompleted,
  SessionDevicesAbsent,
  SessionStarted,
} from './session-events';
import type { RunKind } from './projections';
import type { RunDeleted } from './run-events';
import type { SampleLabelled, StreamGap, StreamStarted } from './stream-events';

export * from './device-events';
export * from './session-events';
export * from './stream-events';
export * from './alert-events';
export * from './run-events';
// The projections' read models (session summary, device status) belong with the events that build them.
export * from './projections';

/** Event type name -> payload, at the current schema version. */
export interface EventCatalogue {
  DeviceRegistered: DeviceRegistered;
  DeviceConnected: DeviceConnected;
  DeviceDisconnected: DeviceDisconnected;
  DeviceWentInactive: DeviceWentInactive;
  DeviceBecameActive: DeviceBecameActive;
  ModelDeployed: ModelDeployed;
  SessionStarted: SessionStarted;
  SampleStarted: SampleStarted;
  /** Logs written before SectionsEvaluated: one event per section (read them through sampleSections). */
  SectionEvaluated: SectionEvaluated;
  SectionsEvaluated: SectionsEvaluated;
  ExitDecided: ExitDecided;
  /** Logs written before MessagesTransferred: one event per message (read them through sampleTraffic). */
  BytesTransferred: BytesTransferred;
  MessagesTransferred: MessagesTransferred;
  DeviceMissed: DeviceMissed;
  SampleUnanswered: SampleUnanswered;
  SessionCompleted: SessionCompleted;
  SessionAborted: SessionAborted;
  SessionDevicesAbsent: SessionDevicesAbsent;
  StreamStarted: StreamStarted;
  SampleLabelled: SampleLabelled;
  StreamGap: StreamGap;
  AlertRuleCreated: AlertRuleCreated;
  AlertRuleUpdated: AlertRuleUpdated;
  AlertRuleDeleted: AlertRuleDeleted;
  AlertPending: AlertPending;
  AlertFiring: AlertFiring;
  AlertResolved: AlertResolved;
  AlertAcknowledged: AlertAcknowledged;
  AlertSilenced: AlertSilenced;
  RunDeleted: RunDeleted;
}
export type EventType = keyof EventCatalogue;

/** Current schema version of each event type. */
export const EVENT_SCHEMA_VERSIONS: { [K in EventType]: number } = {
  DeviceRegistered: 1,
  DeviceConnected: 1,
  DeviceDisconnected: 1,
  DeviceWentInactive: 1,
  DeviceBecameActive: 1,
  ModelDeployed: 1,
  SessionStarted: 1,
  SampleStarted: 1,
  SectionEvaluated: 1,
  SectionsEvaluated: 1,
  ExitDecided: 1,
  BytesTransferred: 1,
  MessagesTransferred: 1,
  DeviceMissed: 1,
  SampleUnanswered: 1,
  SessionCompleted: 1,
  SessionAborted: 1,
  SessionDevicesAbsent: 1,
  StreamStarted: 1,
  SampleLabelled: 1,
  StreamGap: 1,
  AlertRuleCreated: 1,
  AlertRuleUpdated: 1,
  AlertRuleDeleted: 1,
  AlertPending: 1,
  AlertFiring: 1,
  AlertResolved: 1,
  AlertAcknowledged: 1,
  AlertSilenced: 1,
  RunDeleted: 1,
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
  /** A run's log stream, by its kind. */
  run: (kind: RunKind, runId: string) => (kind === 'session' ? `session-${runId}` : `stream-${runId}`),
  alert: (ruleId: string) => `alert-${ruleId}`,
  /** Facts about runs as a whole (RunDeleted): one kept stream, so that a deleted run is remembered after its log. */
  runs: () => 'runs',
};

/** Whether a log stream holds a production stream's events (droppable by age); every other stream is kept. */
export function isStreamEventStream(streamId: string): boolean {
  return streamId.startsWith('stream-');
}
