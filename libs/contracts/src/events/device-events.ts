/** Events of a device's life, in the stream `device-<deviceId>` (and a model's deployments to it). */

export type DeviceRole = 'end-device' | 'edge';

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
/** A device that went inactive is heard from again on the same connection (a stalled agent, a link that recovered). */
export interface DeviceBecameActive {
  deviceId: string;
  /** The API node that heard it. */
  node: string;
  /** How long it had been silent: from its last activity before the silence until now. */
  silentForMs: number;
}
export interface ModelDeployed {
  deviceId: string;
  modelId: string;
  modelVersion: string;
  /** Section name from the checkpoint: `device-<view>`, `edge-<name>`, `local`, `cloud`. */
  section: string;
  bytes: number;
}
