/**
 * The /devices socket.io namespace: what an end device or edge node and the server say to each other.
 * Real device agents and simulated devices speak exactly these messages. Binary payloads travel as
 * socket.io binary attachments (Buffer in Node, ArrayBuffer in browsers); float32 scores as their
 * little-endian bytes so that what is counted is what is sent.
 */
export const DEVICES_NAMESPACE = '/devices';

/** socket.io event names, device <-> server. */
export const DeviceEvents = {
  /** device -> server, every few seconds. */
  heartbeat: 'heartbeat',
  /** server -> device, with ack: install a model section. */
  deploy: 'deploy',
  /** server -> device, with ack: compute for one sample. */
  infer: 'infer',
  /** server -> device: a protocol error about something the device sent. */
  error: 'protocol-error',
} as const;

/**
 * The handshake's auth: the device token, and the device id the agent saved with it. The id only sharpens a refusal
 * (a token an operator rotated or revoked, a device an operator deleted): it is never trusted, the token alone is.
 */
export interface DeviceHandshakeAuth {
  token: string;
  deviceId?: string;
}

/**
 * Why a /devices handshake was refused (the connect_error's message starts with one of these). A device agent acts on
 * the reason: it waits out a lock, and stops for the others, since provisioning itself again would undo what the
 * operator just did (a revoked device back as a new one, a deleted device back in the registry).
 */
export const HandshakeRefusals = {
  missing: 'missing device token (handshake auth.token)',
  unknown: 'unknown or revoked device token',
  revoked: "this device's token was revoked or rotated by an operator",
  deleted: 'this device is not registered on this server (deleted by an operator)',
  locked: 'this device is locked by an operator',
} as const;
export type HandshakeRefusal = keyof typeof HandshakeRefusals;

/** The refusal a connect_error message names, or null when it is another failure (a network error, a server fault). */
export function handshakeRefusal(message: string): HandshakeRefusal | null {
  for (const [kind, text] of Object.entries(HandshakeRefusals)) if (message.startsWith(text)) return kind as HandshakeRefusal;
  return null;
}

export interface HeartbeatMessage {
  /** Device clock, ISO-8601. */
  at: string;
  /** Section currently installed, if any. */
  modelId?: string;
  modelVersion?: string;
  /** What keeps the device from serving (e.g. it cannot read its data); absent when it works. */
  problem?: string;
}

export interface DeployMessage {
  modelId: string;
  modelVersion: string;
  /** Section name in the checkpoint manifest: `device-<view>` or `edge-<name>`. */
  section: string;
  /** The checkpoint manifest (JSON); the device reads its section's tensor table from it. */
  manifest: unknown;
  /** The section's weights file, as stored in the checkpoint. */
  weights: Uint8Array;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: string };
export type DeployAck = Ack<{ modelId: string; modelVersion: string; section: string; bytes: number }>;

/** An end device computes its exit scores for a sample from its own view, keeping the features. */
export interface InferScoresRequest {
  stage: 'scores';
  sessionId: string;
  sampleIndex: number;
  /** Dataset name and sample id; the device reads its own view of it. */
  dataset: string;
  sampleId: string;
}
/** The sample continues: send the bit-packed feature map computed at the scores stage. */
export interface InferFeaturesRequest {
  stage: 'features';
  sessionId: string;
  sampleIndex: number;
}
/** An edge node fuses the features of its devices (null = device missed) and answers. */
export interface InferEdgeRequest {
  stage: 'edge';
  sessionId: string;
  sampleIndex: number;
  features: (Uint8Array | null)[];
}
export type InferRequest = InferScoresRequest | InferFeaturesRequest | InferEdgeRequest;

/** The sample a reply answers, echoed from its request (optional for older devices); another one is an invalid reply. */
type Echo = { sampleIndex?: number };
/**
 * A device with a live source could not capture a frame for this sample: still busy with the previous one
 * (it drops rather than queues, so it never lags behind), the newest frame is too old, or the source failed.
 * Distinct from a failure: the server logs it as a DeviceMissed with reason `skipped`.
 */
export type SkipCause = 'busy' | 'absent' | 'source';
export interface InferSkippedReply {
  ok: false;
  skipped: true;
  /**
   * `busy`: the device dropped this capture to keep up (normal under load); `absent`: the camera captured nothing
   * for this sample (a replayed dataset's view that was never captured: normal, not a fault); `source`: its source
   * could not give a fresh frame (stale, missing, failed), which the agent also reports as its problem. Optional for
   * older agents.
   */
  cause?: SkipCause;
  /** Why, in a few words. */
  error: string;
}
/**
 * `capturedAt`: when the frame was captured (epoch ms, the device's clock); for dataset replay, when the view was
 * read. `repliedAt`: the device's clock when it replied, which the request's round trip brackets on the server's
 * clock: the server reads the device clock's offset from it and puts capture times on its own clock (a camera
 * without NTP, or minutes off, still matches its triggers). Both optional for older agents.
 */
export type InferScoresReply = Ack<{ scores: Uint8Array; latencyMs: number; capturedAt?: number; repliedAt?: number } & Echo> | InferSkippedReply;
export type InferFeaturesReply = Ack<{ features: Uint8Array; latencyMs: number } & Echo>;
export type InferEdgeReply = Ack<{ scores: Uint8Array; features: Uint8Array; latencyMs: number } & Echo>;
export type InferReply = InferScoresReply | InferFeaturesReply | InferEdgeReply;
