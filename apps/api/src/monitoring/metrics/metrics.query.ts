import { z } from 'zod';
import { InvalidInputError, isMetricName, METRIC_NAMES, type MetricQuery } from '@ddnn/contracts';

/** Whether an ISO date's day exists in its month: Date.parse rolls 2026-02-30 over to March 2. */
function realDay(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
  if (!m) return true;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** A time given as epoch milliseconds or an ISO-8601 date. */
const time = z
  .string()
  .max(40)
  .transform((v, ctx) => {
    const t = /^\d+$/.test(v) ? Number(v) : realDay(v) ? Date.parse(v) : Number.NaN;
    if (!Number.isFinite(t)) {
      ctx.addIssue({ code: 'custom', message: 'must be epoch milliseconds or an ISO-8601 time' });
      return z.NEVER;
    }
    return t;
  });

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A step as milliseconds or a duration: `60000`, `1m`, `15m`, `1h`, `1d`. */
const duration = z
  .string()
  .max(20)
  .transform((v, ctx) => {
    const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v.trim());
    const ms = m ? Number(m[1]) * (m[2] && m[2] !== 'ms' ? UNITS[m[2]] : 1) : Number.NaN;
    if (!Number.isSafeInteger(ms)) {
      ctx.addIssue({ code: 'custom', message: 'must be milliseconds or a duration like 1m, 15m, 1h, 1d' });
      return z.NEVER;
    }
    return ms;
  });
const id = z.string().min(1).max(300);

const querySchema = z
  .object({
    metric: z.string().refine(isMetricName, { message: `must be one of ${METRIC_NAMES.join(', ')}` }),
    runId: id.optional(),
    deviceId: id.optional(),
    link: id.optional(),
    from: time.optional(),
    to: time.optional(),
    step: duration.optional(),
    reference: id.optional(),
  })
  .strict();

/** Default window of a query that names none. */
const DEFAULT_WINDOW_MS = 3_600_000;

/** GET /api/metrics?metric=&runId=&deviceId=&link=&from=&to=&step=&reference= as a MetricQuery (400 on anything else). */
export function parseMetricQuery(raw: Record<string, unknown>, now = Date.now()): MetricQuery {
  const r = querySchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidInputError(`${issue.path.join('.') || 'query'}: ${issue.message}`);
  }
  const q = r.data;
  const to = q.to ?? now;
  const from = q.from ?? to - DEFAULT_WINDOW_MS;
  const subject = Object.fromEntries(Object.entries({ runId: q.runId, deviceId: q.deviceId, link: q.link }).filter(([, v]) => v !== undefined));
  return { metric: q.metric as MetricQuery['metric'], subject, from, to, step: q.step, referenceRunId: q.reference };
}

const latestSchema = z
  .object({
    metric: z.string().refine(isMetricName, { message: `must be one of ${METRIC_NAMES.join(', ')}` }),
    runId: id.optional(),
    deviceId: id.optional(),
    link: id.optional(),
    window: duration.optional(),
    reference: id.optional(),
  })
  .strict();

/** GET /api/metrics/latest?metric=&runId=&deviceId=&link=&window=&reference= */
export function parseLatestQuery(raw: Record<string, unknown>): Omit<MetricQuery, 'from' | 'to' | 'step'> & { windowMs: number } {
  const r = latestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidInputError(`${issue.path.join('.') || 'query'}: ${issue.message}`);
  }
  const q = r.data;
  const subject = Object.fromEntries(Object.entries({ runId: q.runId, deviceId: q.deviceId, link: q.link }).filter(([, v]) => v !== undefined));
  return { metric: q.metric as MetricQuery['metric'], subject, windowMs: q.window ?? 5 * 60_000, referenceRunId: q.reference };
}

const totalsSchema = z.object({ runId: id, from: time.optional(), to: time.optional() }).strict();

/** GET /api/metrics/totals?runId=&from=&to= (default: the last hour). */
export function parseTotalsQuery(raw: Record<string, unknown>, now = Date.now()): { runId: string; from: number; to: number } {
  const r = totalsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidInputError(`${issue.path.join('.') || 'query'}: ${issue.message}`);
  }
  const to = r.data.to ?? now;
  return { runId: r.data.runId, from: r.data.from ?? to - DEFAULT_WINDOW_MS, to };
}

const connectivitySchema = z.object({ deviceId: id, from: time.optional(), to: time.optional() }).strict();

/** GET /api/metrics/connectivity?deviceId=&from=&to= */
export function parseConnectivityQuery(raw: Record<string, unknown>, now = Date.now()): { deviceId: string; from: number; to: number } {
  const r = connectivitySchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidInputError(`${issue.path.join('.') || 'query'}: ${issue.message}`);
  }
  const to = r.data.to ?? now;
  return { deviceId: r.data.deviceId, from: r.data.from ?? to - 24 * DEFAULT_WINDOW_MS, to };
}
