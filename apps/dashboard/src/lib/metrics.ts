import { METRICS, type ConnectivityTimeline, type MetricName, type MetricSeries, type MetricSubject, type MetricUnit, type RunWindowTotals } from '@ddnn/contracts';
import { query, request } from './api';
import { fmtBytes, fmtPct } from './format';

export const metricsApi = {
  series: (metric: MetricName, subject: MetricSubject, from: number, to: number, step?: number) =>
    request<MetricSeries>(`/api/metrics${query({ metric, ...subject, from, to, step })}`),
  connectivity: (deviceId: string, from: number, to: number) => request<ConnectivityTimeline>(`/api/metrics/connectivity${query({ deviceId, from, to })}`),
  totals: (runId: string, from: number, to: number) => request<RunWindowTotals>(`/api/metrics/totals${query({ runId, from, to })}`),
};

/** Time windows the pickers offer, with the step that keeps a chart readable (a few hundred points). */
export const RANGES = [
  { key: '1h', label: 'Last hour', ms: 3_600_000, step: 60_000 },
  { key: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000, step: 60_000 },
  { key: '24h', label: 'Last 24 hours', ms: 24 * 3_600_000, step: 5 * 60_000 },
  { key: '7d', label: 'Last 7 days', ms: 7 * 24 * 3_600_000, step: 3_600_000 },
  { key: '7d-1m', label: 'Last 7 days, per minute', ms: 7 * 24 * 3_600_000, step: 60_000 },
  { key: '30d', label: 'Last 30 days', ms: 30 * 24 * 3_600_000, step: 6 * 3_600_000 },
] as const;
export type RangeKey = (typeof RANGES)[number]['key'];
export function rangeOf(key: string | null): (typeof RANGES)[number] {
  return RANGES.find((r) => r.key === key) ?? RANGES[0];
}

export const REFRESH = [
  { key: 'off', label: 'Off', ms: 0 },
  { key: '10s', label: 'Every 10 s', ms: 10_000 },
  { key: '30s', label: 'Every 30 s', ms: 30_000 },
  { key: '1m', label: 'Every minute', ms: 60_000 },
] as const;

/** A metric's value as its unit reads. */
export function fmtMetric(unit: MetricUnit, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'ratio':
      return fmtPct(v);
    case 'ratio_delta':
      return `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} pts`;
    case 'bytes_per_second':
      return `${fmtBytes(v)}/s`;
    case 'milliseconds':
      return `${v.toFixed(v < 10 ? 1 : 0)} ms`;
    case 'per_second':
      return `${v.toFixed(v < 10 ? 2 : 0)}/s`;
    case 'per_minute':
      return `${v.toFixed(1)}/min`;
    default:
      return v.toFixed(3);
  }
}

/** A number in at most four characters or so: 0.05, 2.4, 600, 1.2k, 45k, 3.1M (an axis has no room for more). */
function compact(v: number): string {
  const a = Math.abs(v);
  const trim = (x: string) => (x.includes('.') ? x.replace(/\.?0+$/, '') : x);
  if (a >= 1e6) return `${trim((v / 1e6).toFixed(a >= 1e7 ? 0 : 1))}M`;
  if (a >= 1e3) return `${trim((v / 1e3).toFixed(a >= 1e4 ? 0 : 1))}k`;
  if (a >= 10) return String(Math.round(v));
  return trim(v.toFixed(a >= 1 ? 1 : 2));
}

/**
 * A metric's value as an axis tick: its unit, with only the digits ticks need. Ticks are round numbers, so the
 * tooltip's fixed decimals (fmtMetric: "600.0/min") only widen the axis until its labels are clipped.
 */
export function fmtMetricTick(unit: MetricUnit, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '';
  switch (unit) {
    case 'ratio':
      return `${trimPct(v)}%`;
    case 'ratio_delta':
      return `${v > 0 ? '+' : ''}${trimPct(v)} pts`;
    case 'bytes_per_second':
      return `${fmtBytes(v)}/s`;
    case 'milliseconds':
      return `${compact(v)} ms`;
    case 'per_second':
      return `${compact(v)}/s`;
    case 'per_minute':
      return `${compact(v)}/min`;
    default:
      return fmtMetric(unit, v);
  }
}

/** A ratio in percent with at most one decimal, none when it is whole (25%, 12.5%). */
function trimPct(v: number): string {
  return String(Math.round(v * 1000) / 10);
}

export function metricLabel(metric: MetricName): string {
  return METRICS[metric].label;
}

/** Axis tick of a time: the hour for windows within a day, else the date. */
export function fmtTick(t: number, windowMs: number): string {
  const d = new Date(t);
  if (windowMs <= 24 * 3_600_000) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' }) + (windowMs <= 3 * 86_400_000 ? ` ${d.getHours()}h` : '');
}
