import { hostname } from 'node:os';
import type { AppConfig } from '../config/config';

export const NODE_ID = Symbol('NODE_ID');

/** The name of this API node in events (DeviceConnected.node): DDNN_NODE_ID or host-pid. */
export function nodeId(config: AppConfig): string {
  return config.DDNN_NODE_ID ?? `${hostname()}-${process.pid}`;
}
