import { z } from 'zod';
import type { LinkModel, PolicySpec } from '@ddnn/contracts';
import { InvalidInputError } from '@ddnn/contracts';

// Every threshold statistic (normalized entropy, confidence, margin) lies in [0, 1], as the live policy's does.
const threshold = z.number().min(0, 'a threshold is at least 0').max(1, 'a threshold is at most 1');
const thresholds = z.strictObject({ local: threshold, edge: threshold.optional() });
const name = z.string().min(1).max(200).optional();

const thresholdPolicy = <K extends string>(kind: K) =>
  z.strictObject({ kind: z.literal(kind), name, thresholds });

const budgetFit = z.strictObject({
  thresholds,
  sessionId: z.string(),
  samples: z.number().int().nonnegative(),
  accuracy: z.number(),
  bytesPerSample: z.number().nonnegative(),
  localExitRate: z.number().min(0).max(1),
});

const budgetPolicy = z
  .strictObject({
    kind: z.literal('budget'),
    name,
    statistic: z.enum(['entropy', 'confidence', 'margin']),
    maxBytesPerSample: z.number().nonnegative().optional(),
    minLocalExitRate: z.number().min(0).max(1).optional(),
    fitted: budgetFit.optional(),
  })
  .refine((p) => p.maxBytesPerSample !== undefined || p.minLocalExitRate !== undefined, {
    message: 'a budget policy needs maxBytesPerSample or minLocalExitRate',
  });

/** Zod schema of a policy's JSON form (a discriminated union on `kind`). */
export const policySpecSchema = z.discriminatedUnion('kind', [
  thresholdPolicy('entropy'),
  thresholdPolicy('confidence'),
  thresholdPolicy('margin'),
  z.strictObject({ kind: z.literal('always-local'), name }),
  z.strictObject({ kind: z.literal('always-cloud'), name }),
  z.strictObject({ kind: z.literal('raw-offload'), name }),
  budgetPolicy,
]);

const linkSpec = z.strictObject({
  latencyMs: z.number().nonnegative(),
  bandwidthKbps: z.number().positive(),
});
/** Zod schema of a link model. */
export const linkModelSchema = z.strictObject({
  default: linkSpec.optional(),
  links: z.record(z.string(), linkSpec).optional(),
});

// Compile-time proof that the schemas and the contract types describe the same JSON.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _policyTypesAgree: Same<z.infer<typeof policySpecSchema>, PolicySpec> = true;
const _linkTypesAgree: Same<z.infer<typeof linkModelSchema>, LinkModel> = true;

function parseWith<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input);
  if (!result.success) throw new InvalidInputError(`invalid ${what}: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Validates one policy's JSON form; throws an Error naming every problem. */
export function parsePolicy(input: unknown): PolicySpec {
  return parseWith(policySpecSchema, input, 'policy');
}

/** Validates a list of policies (e.g. a --policies file); errors name the offending index. */
export function parsePolicies(input: unknown): PolicySpec[] {
  if (!Array.isArray(input)) throw new InvalidInputError('invalid policies: expected a JSON array of policies');
  return input.map((p, i) => parseWith(policySpecSchema, p, `policy at index ${i}`));
}

/** Validates a link model's JSON form. */
export function parseLinkModel(input: unknown): LinkModel {
  return parseWith(linkModelSchema, input, 'link model');
}

/** A short human label for tables and charts. */
export function policyLabel(policy: PolicySpec): string {
  if (policy.name) return policy.name;
  // Three significant digits: a fitted threshold (0.9949574924912854) is read, not copied; 0.8 and 0.05 stay as written.
  const r = (x: number) => Number(x.toPrecision(3));
  const t = (th: { local: number; edge?: number }) =>
    th.edge === undefined ? `T=${r(th.local)}` : `T=${r(th.local)}/${r(th.edge)}`;
  switch (policy.kind) {
    case 'entropy':
    case 'confidence':
    case 'margin':
      return `${policy.kind} ${t(policy.thresholds)}`;
    case 'budget': {
      const goal = [
        policy.maxBytesPerSample !== undefined ? `bytes<=${policy.maxBytesPerSample}` : null,
        policy.minLocalExitRate !== undefined ? `local>=${policy.minLocalExitRate}` : null,
      ]
        .filter(Boolean)
        .join(', ');
      return `budget ${policy.statistic} (${goal})${policy.fitted ? ` ${t(policy.fitted.thresholds)}` : ''}`;
    }
    default:
      return policy.kind;
  }
}
