import type { StoredEvent } from '../events/catalogue';
import type { SessionStatus } from '../api/sessions';

/**
 * The /live socket.io namespace: the dashboard's feed of session progress and events. Messages are
 * notifications; the log is the truth. Each carries its log checkpoint, so a client that reconnects calls
 * GET /api/sessions/:id/events?after=<last checkpoint> and loses nothing.
 */
export const LIVE_NAMESPACE = '/live';

export const LiveEvents = {
  /** client -> server, with ack: start receiving a session's events. */
  subscribe: 'subscribe',
  /** client -> server, with ack. */
  unsubscribe: 'unsubscribe',
  /** server -> client: one logged event of a subscribed session. */
  event: 'session-event',
  /** server -> client: progress of a subscribed session. */
  progress: 'session-progress',
} as const;

export interface LiveSubscribe {
  sessionId: string;
}
export type LiveSubscribeAck =
  | { ok: true; sessionId: string; status: SessionStatus; checkpoint: string | null }
  | { ok: false; error: string };

export interface LiveEventMessage {
  sessionId: string;
  checkpoint: string;
  event: StoredEvent;
}

export interface LiveProgressMessage {
  sessionId: string;
  status: SessionStatus;
  samplesDone: number;
  sampleCount: number | null;
  /** Checkpoint of the newest event this progress reflects. */
  checkpoint: string | null;
}
