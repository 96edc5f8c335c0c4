import type { DeviceRole } from '@ddnn/contracts';

/** Who a device socket belongs to (kept in socket.data, so other nodes can see it through the adapter). */
export interface DeviceIdentity {
  id: string;
  name: string;
  role: DeviceRole;
  view: number | null;
}

/** The socket.io room of a device's sockets on every node: requests through the adapter and cut-offs address it. */
export const deviceRoom = (deviceId: string): string => `device:${deviceId}`;

/** One reachable device: a socket on this node or an in-process simulated device. */
export interface DeviceEndpoint {
  readonly deviceId: string;
  readonly name: string;
  readonly role: DeviceRole;
  readonly view: number | null;
  readonly kind: 'socket' | 'simulated';
  /** This connection of the device (its socket's id): a new one is a device that may have lost what it was sent. */
  readonly connectionId: string;
  /** Sends a server -> device message and resolves with the device's raw (unvalidated) ack; rejects on timeout. */
  call(event: 'deploy' | 'infer', payload: unknown, timeoutMs: number): Promise<unknown>;
  /** Cuts the device off (e.g. an operator locked it); `closed` then resolves. */
  shutdown(reason: string): void;
  /** Resolves when the endpoint goes away (disconnect or crash). */
  readonly closed: Promise<string>;
}

/** Raised by an endpoint whose device did not ack in time. */
export class EndpointTimeoutError extends Error {}
/** Raised by an endpoint whose device went away before it acked. */
export class EndpointClosedError extends Error {}
