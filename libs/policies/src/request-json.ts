import { z } from 'zod';
import type { CompareRequest, CompareRequestOptions, SampleWindow, ThresholdStatistic } from '@ddnn/contracts';
import { linkModelSchema, parsePolicy, policySpecSchema } from './policy-json';
import { InvalidInputError, MAX_WINDOW_SAMPLES } from '@ddnn/contracts';

const sessionId = z.string().min(1).max(200);

/** A window of a run's samples (compare's `windows`, the sweep's fromSample/toSample). */
const sampleWindowSchema = z
  .strictObject({ fromSample: z.number().int().min(0), toSample: z.number().int().min(0) })
  .refine((w) => w.toSample >= w.fromSample, 'toSample must be at least fromSample')
  .refine((w) => w.toSample - w.fromSample < MAX_WINDOW_SAMPLES, `a window spans at most ${MAX_WINDOW_SAMPLES} samples`);

/** Zod schema of POST /api/analysis/compare's body. */
export const compareRequestSchema = z.strictObject({
  sessionIds: z.array(sessionId).min(1, 'name at least one session').max(50),
  policies: z.array(policySpecSchema).min(1, 'name at least one policy').max(200),
  linkModel: linkModelSchema.optional(),
  fitSessionId: sessionId.optional(),
  windows: z.record(sessionId, sampleWindowSchema).optional(),
});

/** Validates a window of samples; throws an InvalidInputError naming the problem. */
export function parseSampleWindow(input: unknown, what: string): SampleWindow {
  const r = sampleWindowSchema.safeParse(input);
  if (!r.success) throw new InvalidInputError(`invalid ${what}: ${z.prettifyError(r.error)}`);
  return r.data;
}

/** Validates a compare request; throws an Error naming every problem. */
export function parseCompareRequest(input: unknown): CompareRequest & CompareRequestOptions {
  const r = compareRequestSchema.safeParse(input);
  if (!r.success) throw new InvalidInputError(`invalid compare request: ${z.prettifyError(r.error)}`);
  return r.data;
}

const STATISTICS: ThresholdStatistic[] = ['entropy', 'confidence', 'margin'];

/**
 * Reads a sweep's `policy` parameter: a statistic name, or a threshold policy's JSON (the statistic is its
 * kind; an edge threshold in it stays fixed while the local one sweeps, none = the edge exit is never taken).
 */
export function parseSweepPolicy(raw: string): { statistic: ThresholdStatistic; edgeThreshold: 'same' | number } {
  const text = raw.trim();
  if ((STATISTICS as string[]).includes(text)) return { statistic: text as ThresholdStatistic, edgeThreshold: 'same' };
  if (!text.startsWith('{')) {
    throw new InvalidInputError(`invalid sweep policy "${raw}": use ${STATISTICS.join(', ')} or a threshold policy's JSON`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InvalidInputError(`invalid sweep policy: not JSON (${(e as Error).message})`);
  }
  const policy = parsePolicy(json);
  if (policy.kind !== 'entropy' && policy.kind !== 'confidence' && policy.kind !== 'margin') {
    throw new InvalidInputError(`cannot sweep a ${policy.kind} policy: only entropy, confidence and margin have a threshold`);
  }
  // No edge threshold in a policy = the edge exit is never taken (an infinite threshold in the statistic's direction).
  const never = policy.kind === 'entropy' ? -Infinity : Infinity;
  return { statistic: policy.kind, edgeThreshold: policy.thresholds.edge ?? never };
}
