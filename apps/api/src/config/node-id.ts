import { hostname } from 'node:os';
import type { AppConfig } from './config';

export const NODE_ID = Symbol('NODE_ID');

/** The name of this API node in events, session ownership and logs: DDNN_NODE_ID or host-pid. The one place a node id is made. */
export function nodeId(config: AppConfig): string {
  return config.DDNN_NODE_ID ?? `${hostname()}-${process.pid}`;
}
