import { z } from 'zod';
import type {
  DeployAck,
  DeployMessage,
  HeartbeatMessage,
  InferEdgeReply,
  InferFeaturesReply,
  InferRequest,
  InferScoresReply,
} from './devices';

// socket.io hands binary attachments over as Buffer in Node and ArrayBuffer in browsers: accept both.
const bytes = z
  .custom<Uint8Array | ArrayBuffer>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, 'expected binary data')
  .transform((v) => (v instanceof Uint8Array ? v : new Uint8Array(v)));

// Control characters (NUL above all, which Postgres text refuses) are a protocol error at the boundary.
const id = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => ![...s].some((c) => c < ' ' || c === '\u007f'), 'must not contain control characters');
const index = z.number().int().min(0);

// Free text that is shown and stored: line breaks and tabs, but no other control character (NUL above all).
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => ![...s].some((c) => (c < ' ' && c !== '\n' && c !== '\r' && c !== '\t') || c === '\u007f'), 'must not contain control characters');
// Epoch ms between 2000 and 2100: a device's clock, not a counter, a relative clock or any date a string can hold.
const DEVICE_EPOCH = { min: 946_684_800_000, max: 4_102_444_800_000 };
const deviceTime = z.iso.datetime({ offset: true }).refine((s) => {
  const t = Date.parse(s);
  return t >= DEVICE_EPOCH.min && t <= DEVICE_EPOCH.max;
}, 'must be a time between 2000 and 2100');

export const heartbeatSchema = z.strictObject({
  at: deviceTime,
  modelId: id.optional(),
  modelVersion: id.optional(),
  problem: text(500).optional(),
});

export const deploySchema = z.strictObject({
  modelId: id,
  modelVersion: id,
  section: z.string().regex(/^(device-\d+|edge-[\w.-]+|local|cloud)$/, 'section must be device-<view>, edge-<name>, local or cloud'),
  manifest: z.record(z.string(), z.unknown()),
  weights: bytes,
});

export const inferRequestSchema = z.discriminatedUnion('stage', [
  z.strictObject({ stage: z.literal('scores'), sessionId: id, sampleIndex: index, dataset: id, sampleId: id }),
  z.strictObject({ stage: z.literal('features'), sessionId: id, sampleIndex: index }),
  z.strictObject({ stage: z.literal('edge'), sessionId: id, sampleIndex: index, features: z.array(bytes.nullable()).min(1) }),
]);

const failure = z.strictObject({ ok: z.literal(false), error: z.string() });
const latencyMs = z.number().min(0);
export const deployAckSchema = z.union([
  z.strictObject({ ok: z.literal(true), modelId: id, modelVersion: id, section: z.string(), bytes: index }),
  failure,
]);
const capturedAt = z.number().int().min(DEVICE_EPOCH.min).max(DEVICE_EPOCH.max);
const skipped = z.strictObject({ ok: z.literal(false), skipped: z.literal(true), cause: z.enum(['busy', 'absent', 'source']).optional(), error: z.string() });
export const inferReplySchemas = {
  scores: z.union([z.strictObject({ ok: z.literal(true), scores: bytes, latencyMs, sampleIndex: index.optional(), capturedAt: capturedAt.optional(), repliedAt: capturedAt.optional() }), skipped, failure]),
  features: z.union([z.strictObject({ ok: z.literal(true), features: bytes, latencyMs, sampleIndex: index.optional() }), failure]),
  edge: z.union([z.strictObject({ ok: z.literal(true), scores: bytes, features: bytes, latencyMs, sampleIndex: index.optional() }), failure]),
};

/** A payload that failed validation, with a message naming every bad field. */
export class ProtocolError extends Error {
  constructor(
    readonly event: string,
    message: string,
  ) {
    super(`${event}: ${message}`);
    this.name = 'ProtocolError';
  }
}

function parse<T>(event: string, schema: z.ZodType<T>, payload: unknown): T {
  const r = schema.safeParse(payload);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
    throw new ProtocolError(event, detail);
  }
  return r.data;
}

/** Validates a heartbeat; throws ProtocolError. */
export const parseHeartbeat = (p: unknown): HeartbeatMessage => parse('heartbeat', heartbeatSchema, p);
/** Validates a deploy message; throws ProtocolError. */
export const parseDeploy = (p: unknown): DeployMessage => parse('deploy', deploySchema, p) as DeployMessage;
/** Validates an infer request; throws ProtocolError. */
export const parseInferRequest = (p: unknown): InferRequest => parse('infer', inferRequestSchema, p) as InferRequest;
/** Validates a deploy acknowledgement; throws ProtocolError. */
export const parseDeployAck = (p: unknown): DeployAck => parse('deploy ack', deployAckSchema, p) as DeployAck;
/** Validates the reply to an infer request of the given stage; throws ProtocolError. */
export function parseInferReply(stage: 'scores', p: unknown): InferScoresReply;
export function parseInferReply(stage: 'features', p: unknown): InferFeaturesReply;
export function parseInferReply(stage: 'edge', p: unknown): InferEdgeReply;
export function parseInferReply(stage: InferRequest['stage'], p: unknown): InferScoresReply | InferFeaturesReply | InferEdgeReply;
export function parseInferReply(stage: InferRequest['stage'], p: unknown) {
  return parse(`infer ${stage} reply`, inferReplySchemas[stage] as z.ZodType<unknown>, p);
}
