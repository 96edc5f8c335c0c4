import type { CloudAnswer } from './cloud-batcher';
import type { InferReply, InferRequest, NewEvent } from '@ddnn/contracts';

/** How the orchestrator reaches devices (real or simulated alike): one request, one reply or a failure. */
export interface DeviceRequester {
  request(deviceId: string, req: InferRequest, timeoutMs: number): Promise<InferReply>;
}

/**
 * The sections that run inside the server, loaded from the session's checkpoint. Inputs are keyed by camera
 * view (devices) or edge name; a missing key is a device or edge that did not answer.
 */
export interface ServerSections {
  /** Class probabilities of the local aggregator; null when no device answered (nothing to aggregate). */
  local(scores: Map<number, Float32Array>): number[] | null;
  /** Views an edge fuses, in the order its edge section (and an edge node) expects their features. */
  edgeViews(name: string): number[];
  /** A simulated edge node: its devices' features -> exit scores and features for the cloud. */
  edge(name: string, features: Map<number, Uint8Array>): { scores: Float32Array; features: Uint8Array };
  /**
   * Cloud class probabilities from device features (2-tier, by view) or edge features (3-tier, by name), and
   * the sample's share of the compute (samples reaching the cloud together run as one batch: CloudBatcher).
   */
  cloud(features: Map<number | string, Uint8Array>): Promise<CloudAnswer>;
}

/** Where the events of one session go (the batching writer); resolves once they are durable. Gives events without an id their id, in place. */
export interface EventSink {
  append(events: NewEvent[]): Promise<void>;
}
