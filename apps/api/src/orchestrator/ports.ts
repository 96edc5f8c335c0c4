import type { InferReply, InferRequest, NewEvent } from '@ddnn/contracts';

/** How the orchestrator reaches devices (real or simulated alike): one request, one reply or a failure. */
export interface DeviceRequester {
  request(deviceId: string, req: InferRequest, timeoutMs: number): Promise<InferReply>;
}

/** The sections that run inside the server, loaded from the session's checkpoint. */
export interface ServerSections {
  /**
   * Local aggregator over the devices' class scores, in topology order; null = the device missed.
   * Returns null when no device answered (there is nothing to aggregate).
   */
  local(scores: (Float32Array | null)[]): Float32Array | null;
  /** A simulated edge node: fuses its devices' features (null = missed) into scores and features for the cloud. */
  edge?(name: string, features: (Uint8Array | null)[]): { scores: Float32Array; features: Uint8Array };
  /** The cloud section over the features it receives (devices or edges, in topology order; null = missing). */
  cloud(features: (Uint8Array | null)[]): Float32Array;
}

/** Where the events of one session go (the batching writer); resolves once they are durable. */
export interface EventSink {
  append(events: NewEvent[]): Promise<void>;
}
