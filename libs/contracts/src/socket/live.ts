import type { StoredEvent } from '../events/catalogue';
import type { SessionStatus } from '../api/sessions';
import type { RunKind } from '../events/projections';

/**
 * The /live socket.io namespace: the dashboard's feed of a run's progress and events, a finite session's or a
 * production stream's. Messages are notifications; the log is the truth. Each carries its log checkpoint, so a
 * client that reconnects reads GET /api/sessions/:id/events (or /api/streams/:id/events) ?after=<last checkpoint>
 * and loses nothing.
 */
export const LIVE_NAMESPACE = '/live';

export const LiveEvents = {
  /** client -> server, with ack: start receiving a run's events. */
  subscribe: 'subscribe',
  /** client -> server, with ack. */
  unsubscribe: 'unsubscribe',
  /** server -> client: one logged event of a subscribed run. */
  event: 'session-event',
  /** server -> client: progress of a subscribed run. */
  progress: 'session-progress',
} as const;

/** A run to follow: `sessionId` is the run's id (a stream's too, as in its events); `kind` defaults to session. */
export interface LiveSubscribe {
  sessionId: string;
  kind?: RunKind;
}
export type LiveSubscribeAck =
  | { ok: true; sessionId: string; kind: RunKind; status: SessionStatus; checkpoint: string | null }
  | { ok: false; error: string };

export interface LiveEventMessage {
  sessionId: string;
  kind: RunKind;
  checkpoint: string;
  event: StoredEvent;
}

export interface LiveProgressMessage {
  sessionId: string;
  kind: RunKind;
  status: SessionStatus;
  /** Samples started (triggered, for a stream). */
  samplesDone: number;
  /** Null for a stream: it has no end. */
  sampleCount: number | null;
  /** Samples with an answering exit, and of them those labelled (a stream's labels arrive later) and right. */
  samplesDecided: number;
  labelled: number;
  accuracy: number | null;
  /** Checkpoint of the newest event this progress reflects. */
  checkpoint: string | null;
}
