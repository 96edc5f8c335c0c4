import type { DeviceRole } from '../events/catalogue';

export type AdminState = 'locked' | 'unlocked';

/** POST /api/devices/provision: a device presents its profile's provisioning key. */
export interface ProvisionDeviceRequest {
  name: string;
  profileKey: string;
  role: DeviceRole;
  /** Camera view served (end devices). */
  view?: number;
  capabilities?: Record<string, unknown>;
}
/** The token is shown once: only its hash is stored. */
export interface ProvisionDeviceResponse {
  deviceId: string;
  token: string;
}

/** Observed health, kept apart from operator intent (adminState). */
export interface DeviceConnectivityView {
  active: boolean;
  /** The API node holding the device's socket while connected. */
  node: string | null;
  lastConnectAt: string | null;
  lastDisconnectAt: string | null;
  lastActivityAt: string | null;
}

/**
 * What the event log says about a device across its life (the device_statuses projection): counters the
 * registry row does not keep. It lags the log by the projections' wake-up (about a second at most).
 */
export interface DeviceLogView {
  /** Live device sections it answered, across runs. */
  answered: number;
  /** Requests it had a capture for and did not answer (timeout, disconnected, error, invalid), across runs. */
  missed: number;
  /** Samples it captured nothing for (skipped captures): not misses, as device_miss_rate counts them. */
  notCaptured: number;
  /** missed / (answered + missed), as device_miss_rate; null before any request. */
  missRate: number | null;
  /** How often it connected and disconnected, and why it last went. */
  connects: number;
  disconnects: number;
  lastDisconnectReason: string | null;
}

export interface DeviceView {
  id: string;
  profileId: string;
  name: string;
  role: DeviceRole;
  view: number | null;
  capabilities: Record<string, unknown>;
  simulated: boolean;
  adminState: AdminState;
  /** False after revocation: the device must be provisioned again or get a rotated token. */
  hasToken: boolean;
  connectivity: DeviceConnectivityView;
  deployed: { modelId: string; modelVersion: string; section: string } | null;
  /** Operator tags to group devices. */
  tags: string[];
  /** The last problem the agent reported (e.g. it cannot read its data); null while it works. */
  problem: string | null;
  /** From the device_statuses projection; null until the projection has seen the device's events. */
  log: DeviceLogView | null;
  createdAt: string;
  updatedAt: string;
}

/** GET /api/devices/:id/history: one event of the device's stream. */
export interface DeviceHistoryEntry {
  /** DeviceRegistered, DeviceConnected, DeviceDisconnected, DeviceWentInactive, DeviceBecameActive, ModelDeployed. */
  type: string;
  at: string;
  data: Record<string, unknown>;
}

/** PATCH /api/devices/:id */
export interface UpdateDeviceRequest {
  adminState?: AdminState;
  role?: DeviceRole;
  view?: number | null;
  name?: string;
  tags?: string[];
}

/** GET /api/devices?limit&offset&role&adminState&active&simulated&name */
export interface DeviceListQuery {
  limit?: number;
  offset?: number;
  role?: DeviceRole;
  adminState?: AdminState;
  active?: boolean;
  /** Only devices carrying this tag. */
  tag?: string;
  simulated?: boolean;
  /** Substring of the name, case-insensitive. */
  name?: string;
}
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
export type DeviceList = Page<DeviceView>;
