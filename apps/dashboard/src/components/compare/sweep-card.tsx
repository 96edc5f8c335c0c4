'use client';
import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ThresholdStatistic } from '@ddnn/contracts';
import type { SessionAnalysis } from '../../lib/compare';
import { fmtPct } from '../../lib/format';
import { TIER_COLORS } from '../charts';
import { Card } from '../ui';

/** One colour per compared run, in the order picked. */
export const PALETTE = ['#2f6fde', '#d0452f', '#2f9e6b', '#8a4fd0', '#d08b1a', '#1f9bb0'];
export const runColor = (k: number) => PALETTE[k % PALETTE.length];

const thresholdAxis = { dataKey: 'threshold', type: 'number', domain: [0, 1], ticks: [0, 0.2, 0.4, 0.6, 0.8, 1], tickFormatter: (v: number) => v.toFixed(1) } as const;

/** The API's threshold sweep of each run: accuracy, then exit rates per tier, against the threshold. */
export function SweepCard({ analyses, statistic }: { analyses: SessionAnalysis[]; statistic: ThresholdStatistic }) {
  const data = useMemo(() => {
    const pts = analyses[0]?.sweep.points ?? [];
    return pts.map((p, i) => {
      const o: Record<string, number | null> = { threshold: p.threshold };
      analyses.forEach((a, k) => {
        const q = a.sweep.points[i];
        o[`acc${k}`] = q.evaluable ? q.accuracy : null;
        o[`local${k}`] = q.evaluable ? q.localExitRate : null;
        o[`edge${k}`] = q.evaluable ? (q.exitRates.edge ?? 0) : null;
        o[`cloud${k}`] = q.evaluable ? (q.exitRates.cloud ?? 0) : null;
      });
      return o;
    });
  }, [analyses]);
  const tooltip = <Tooltip formatter={(v) => fmtPct(Number(v))} labelFormatter={(t) => `T = ${Number(t).toFixed(2)}`} />;
  return (
    <Card title={`Accuracy vs ${statistic} threshold`}>
      <div className="chart-box" data-testid="sweep-chart">
        <ResponsiveContainer>
          <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis {...thresholdAxis} />
            <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
            {tooltip}
            <Legend />
            {analyses.map((a, k) => (
              <Line key={a.sessionId} dataKey={`acc${k}`} name={`accuracy ${a.name}`} stroke={runColor(k)} dot={false} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <h3 style={{ marginTop: 8 }}>Exit rates per tier</h3>
      <div className="chart-box" style={{ height: 160 }}>
        <ResponsiveContainer>
          <LineChart data={data} margin={{ top: 4, right: 16, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis {...thresholdAxis} />
            <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
            {tooltip}
            {analyses.flatMap((a, k) =>
              (['local', 'edge', 'cloud'] as const)
                .filter((t) => t !== 'edge' || a.hasEdge)
                .map((t) => (
                  <Line
                    key={`${t}${k}`}
                    dataKey={`${t}${k}`}
                    name={`${t} ${a.name}`}
                    stroke={TIER_COLORS[t]}
                    strokeDasharray={k ? `${4 + 2 * k} 3` : undefined}
                    dot={false}
                    isAnimationActive={false}
                  />
                )),
            )}
            <Legend />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </Card>
  );
}
