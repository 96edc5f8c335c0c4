'use client';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { METRICS, type ConnectivityState, type MetricName, type MetricSeries, type MetricSubject } from '@ddnn/contracts';
import { fmtTime } from '../lib/format';
import { fmtMetric, fmtMetricTick, fmtTick, metricLabel, metricsApi } from '../lib/metrics';
import { useAsync } from '../lib/use-async';
import { Card, ErrorNote } from './ui';

const COLORS = ['#5b6ee1', '#2f9e6b', '#d08b1a', '#c2417a', '#4aa3c7'];

export interface Window {
  from: number;
  to: number;
  step: number;
}

/**
 * One chart of one or more metrics of the same unit over a window; estimates draw their 95% interval as a band.
 * Reloads when the window moves or `refreshedAt` changes.
 */
export function MetricChart({
  title,
  metrics,
  subject,
  window,
  refreshedAt,
  testId,
}: {
  title: string;
  metrics: MetricName[];
  subject: MetricSubject;
  window: Window;
  /** Changes on every auto-refresh: the current step fills up within one window. */
  refreshedAt?: number;
  testId?: string;
}) {
  const key = JSON.stringify([metrics, subject, window, refreshedAt]);
  const state = useAsync(() => Promise.all(metrics.map((m) => metricsApi.series(m, subject, window.from, window.to, window.step))), [key]);
  const series = state.data;
  const unit = METRICS[metrics[0]].unit;
  const rows = series ? toRows(series) : [];
  const filled = series ? series.some((s) => s.points.some((p) => p.n > 0)) : false;
  const reference = series?.find((s) => s.reference !== undefined)?.reference;
  return (
    <Card title={title} className="metric-card">
      {state.error && <ErrorNote error={state.error} what={title.toLowerCase()} onRetry={state.reload} />}
      <div className="chart-box" data-testid={testId} data-points={rows.length} data-filled={filled ? 'yes' : 'no'}>
        {series && (
          <ResponsiveContainer>
            <ComposedChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 4 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="t" type="number" domain={[window.from, window.to]} scale="time" tickFormatter={(t: number) => fmtTick(t, window.to - window.from)} minTickGap={40} />
              {/* Sized to its longest tick: a fixed width clipped "600/min" to "00/min". */}
              <YAxis width="auto" tickFormatter={(v: number) => fmtMetricTick(unit, v)} domain={unit === 'ratio' ? [0, 1] : ['auto', 'auto']} />
              <Tooltip labelFormatter={(t) => fmtTime(Number(t))} formatter={(v, name) => [Array.isArray(v) ? v.map((x) => fmtMetric(unit, Number(x))).join(' – ') : fmtMetric(unit, Number(v)), String(name)]} />
              {metrics.length > 1 && <Legend />}
              {series.map((s, i) =>
                METRICS[s.metric].interval ? (
                  <Area key={`${s.metric}-band`} dataKey={`${s.metric}:band`} name={`${metricLabel(s.metric)} (95% interval)`} stroke="none" fill={COLORS[i % COLORS.length]} fillOpacity={0.18} isAnimationActive={false} connectNulls={false} />
                ) : null,
              )}
              {series.map((s, i) => (
                // Sparse series (a run of a few minutes in a long window) draw their points: a lone value has no line.
                <Line
                  key={s.metric}
                  dataKey={s.metric}
                  name={metricLabel(s.metric)}
                  stroke={COLORS[i % COLORS.length]}
                  dot={s.points.filter((p) => p.value !== null).length <= 60 ? { r: 2.5 } : false}
                  strokeWidth={1.6}
                  isAnimationActive={false}
                  connectNulls={false}
                />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
      {series && !filled && <p className="muted small">Nothing measured in this window.</p>}
      {reference === null && <p className="muted small">No labelled reference run yet: complete a session with labels to calibrate estimates and drift.</p>}
      {reference && (
        <p className="muted small" data-testid={testId ? `${testId}-reference` : undefined}>
          Calibrated on run <span className="mono">{reference.runId.slice(0, 8)}</span> ({reference.samples} labelled samples).
        </p>
      )}
    </Card>
  );
}

/** One row per step with each metric's value (and `<metric>:band` = [low, high] for estimates). */
function toRows(series: MetricSeries[]): Record<string, number | null | [number, number]>[] {
  const rows = new Map<number, Record<string, number | null | [number, number]>>();
  for (const s of series) {
    for (const p of s.points) {
      const row = rows.get(p.t) ?? { t: p.t };
      row[s.metric] = p.value;
      if (p.low !== undefined && p.high !== undefined) row[`${s.metric}:band`] = [p.low, p.high];
      rows.set(p.t, row);
    }
  }
  return [...rows.values()].sort((a, b) => (a.t as number) - (b.t as number));
}

const STATE_COLORS: Record<ConnectivityState, string> = { connected: '#2f9e6b', inactive: '#d08b1a', disconnected: '#c94a4a', unknown: '#d9dce3' };

/**
 * A device's connectivity as coloured spans along the window, up to now: a window ends at the next whole step (so
 * that refreshes ask for the same buckets), and nothing is known of the minutes after now.
 */
export function ConnectivityStrip({ deviceId, window, refreshedAt }: { deviceId: string; window: Window; refreshedAt?: number }) {
  const state = useAsync(() => metricsApi.connectivity(deviceId, window.from, window.to), [deviceId, window.from, window.to, refreshedAt]);
  const end = Math.max(window.from + 1, Math.min(window.to, Date.now()));
  const width = end - window.from;
  return (
    <Card title="Connectivity over time">
      {state.error && <ErrorNote error={state.error} what="the connectivity" onRetry={state.reload} />}
      <div className="connectivity-strip" data-testid="connectivity-strip" data-spans={state.data?.spans.map((s) => s.state).join(',') ?? ''}>
        {state.data?.spans
          .filter((s) => s.from < end)
          .map((s, i) => {
            const to = Math.min(s.to, end);
            return (
              <div
                key={i}
                className="span"
                title={`${s.state}${s.reason ? ` (${s.reason})` : ''}: ${fmtTime(s.from)} – ${fmtTime(to)}`}
                style={{ left: `${((s.from - window.from) / width) * 100}%`, width: `${Math.max(0.2, ((to - s.from) / width) * 100)}%`, background: STATE_COLORS[s.state] }}
              />
            );
          })}
      </div>
      <div className="connectivity-axis muted small">
        <span data-testid="connectivity-from">{fmtTime(window.from)}</span>
        <span data-testid="connectivity-to">{fmtTime(end)}</span>
      </div>
      <div className="legend small">
        {(['connected', 'inactive', 'disconnected', 'unknown'] as const).map((s) => (
          <span key={s}>
            <i style={{ background: STATE_COLORS[s] }} /> {s}
          </span>
        ))}
      </div>
    </Card>
  );
}
