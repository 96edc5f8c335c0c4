'use client';
import { CartesianGrid, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import type { Row, SessionAnalysis } from '../../lib/compare';
import { fmtBytes, fmtPct } from '../../lib/format';
import { Card, Empty } from '../ui';
import { runColor } from './sweep-card';

type Evaluable = Extract<Row, { evaluable: true }>;

/** Powers of 4 around the data: a log axis with one or two default ticks says little. */
function logTicks(rows: Evaluable[]): number[] {
  const xs = rows.map((r) => r.bytesPerSample).filter((x) => x > 0);
  if (xs.length === 0) return [1, 4];
  const lo = Math.floor(Math.log(Math.min(...xs)) / Math.log(4));
  const hi = Math.ceil(Math.log(Math.max(...xs)) / Math.log(4));
  return Array.from({ length: Math.max(2, hi - lo + 1) }, (_, i) => 4 ** (lo + i));
}

/** Accuracy against bytes per sample of every evaluable policy, with each run's Pareto frontier as the API marks it. */
export function ParetoCard({ analyses, rows }: { analyses: SessionAnalysis[]; rows: Row[] }) {
  const evaluable = rows.filter((r): r is Evaluable => r.evaluable);
  const nameOf = (id: string) => analyses.find((a) => a.sessionId === id)?.name ?? id;
  const point = (r: Evaluable) => ({ x: r.bytesPerSample, y: r.accuracy, label: r.label, s: nameOf(r.sessionId) });
  // One frontier per run: runs ran on different data and devices.
  const fronts = analyses.map((a) =>
    evaluable
      .filter((r) => r.sessionId === a.sessionId && r.dominated === false)
      .map(point)
      .sort((p, q) => p.x - q.x),
  );
  const dominated = evaluable.filter((r) => r.dominated).map(point);
  const ticks = logTicks(evaluable);
  return (
    <Card title="Accuracy vs bytes per sample (Pareto frontier)">
      {evaluable.length === 0 ? (
        <Empty title="No policy could be evaluated on these runs.">Research-mode runs log every exit, so every policy can be evaluated on them.</Empty>
      ) : (
        <div className="chart-box tall">
          <ResponsiveContainer>
            <ScatterChart margin={{ top: 8, right: 16, bottom: 20, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis
                dataKey="x"
                type="number"
                name="bytes/sample"
                scale="log"
                domain={[ticks[0], ticks[ticks.length - 1]]}
                ticks={ticks}
                tickFormatter={(v: number) => fmtBytes(v)}
                label={{ value: 'bytes per sample (log scale)', position: 'insideBottom', offset: -12, fontSize: 11 }}
              />
              <YAxis dataKey="y" type="number" name="accuracy" domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
              <ZAxis range={[60, 60]} />
              <Tooltip
                content={({ payload }) => {
                  const p = payload?.[0]?.payload as { label: string; s: string; x: number; y: number } | undefined;
                  return p ? (
                    <div className="card" style={{ padding: 8, margin: 0 }}>
                      <strong>{p.label}</strong> <span className="mono">{p.s}</span>
                      <div>
                        {fmtPct(p.y)} · {fmtBytes(p.x)}/sample
                      </div>
                    </div>
                  ) : null;
                }}
              />
              <Legend verticalAlign="top" />
              <Scatter name="dominated" data={dominated} fill="#c4c9d2" isAnimationActive={false} />
              {fronts.map((front, k) => (
                <Scatter key={analyses[k].sessionId} name={`frontier ${analyses[k].name}`} data={front} fill={runColor(k)} line={{ stroke: runColor(k) }} isAnimationActive={false} />
              ))}
            </ScatterChart>
          </ResponsiveContainer>
        </div>
      )}
    </Card>
  );
}
