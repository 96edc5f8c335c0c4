import type { DeviceRole } from '@ddnn/contracts';

/** A call from the API to one device of a fleet thread. */
export interface FleetRequest {
  id: number;
  deviceId: string;
  role: DeviceRole;
  view: number | null;
  op: 'deploy' | 'infer';
  payload: unknown;
}

/** The thread's answer: the runtime's reply, or why it could not give one. */
export type FleetReply = { id: number; reply: unknown } | { id: number; error: string };

/**
 * What crosses between the threads: the calls (or replies) of one turn of the event loop in one message. A
 * session asks six devices at once; a message per call cost a wake-up of the other thread each.
 */
export type FleetRequests = FleetRequest[];
export type FleetReplies = FleetReply[];
