import type { DeployAck, DeployMessage, InferReply, InferRequest } from '@ddnn/contracts';

/** A device the transport can reach right now. */
export interface ConnectedDevice {
  deviceId: string;
  name: string;
  role: 'end-device' | 'edge';
  /** Camera view served (end devices); null for edge nodes. */
  view: number | null;
  /** 'socket' = a real agent over socket.io /devices; 'simulated' = an in-process device. */
  kind: 'socket' | 'simulated';
  /** The connection it is reachable through (a socket's id): a new one is a device that may have lost its section. */
  connectionId: string;
  /** Section installed on the device through this connection (last successful deploy), if any. */
  modelId: string | null;
  modelVersion: string | null;
  section: string | null;
}

/** Why a request to a device did not produce a reply. */
export class DeviceUnavailableError extends Error {
  constructor(
    readonly deviceId: string,
    readonly reason: 'not-connected' | 'timeout' | 'disconnected',
  ) {
    super(`device ${deviceId}: ${reason}`);
    this.name = 'DeviceUnavailableError';
  }
}

/** A device replied, but its reply breaks the protocol (missing fields, wrong types). */
export class MalformedReplyError extends Error {
  constructor(
    readonly deviceId: string,
    detail: string,
  ) {
    super(`device ${deviceId}: malformed reply: ${detail}`);
    this.name = 'MalformedReplyError';
  }
}

/**
 * How the server reaches devices, real (socket.io /devices) or simulated (in-process), through the same
 * device-side message handlers. A device that is not connected, disconnects, or does not answer within
 * timeoutMs rejects with DeviceUnavailableError, a reply that breaks the protocol with MalformedReplyError; a device that answers with `{ ok: false }` resolves with it.
 * On a cluster (REDIS_URL) a request to a device connected to another node goes through the Redis adapter.
 */
export abstract class DeviceTransport {
  abstract request(deviceId: string, req: InferRequest, timeoutMs: number): Promise<InferReply>;
  /** Pushes a section; a successful ack is logged as ModelDeployed. */
  abstract deploy(deviceId: string, msg: DeployMessage, timeoutMs: number): Promise<DeployAck>;
  /** Devices connected to this node or, with REDIS_URL, to any node. */
  abstract connectedDevices(): Promise<ConnectedDevice[]>;
  /**
   * The connection a device attached to this node is reachable through now (its connectedDevices connectionId),
   * undefined when it is not attached here; synchronous, as a run asks it before every request.
   */
  abstract connectionOf(deviceId: string): string | undefined;
}
