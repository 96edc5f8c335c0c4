'use client';
import { Bar, BarChart, CartesianGrid, Cell, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SessionSummary } from '@ddnn/contracts';
import { fmtBytes, fmtPct } from '../lib/format';

export const TIER_COLORS: Record<string, string> = { local: '#2f9e6b', edge: '#d08b1a', cloud: '#5b6ee1' };

/** Samples answered at each exit, split into right, wrong and (a stream's samples before their label) unlabelled. */
export function ExitsChart({ summary }: { summary: SessionSummary }) {
  const data = (['local', 'edge', 'cloud'] as const).map((t) => ({
    tier: t,
    correct: summary.exits[t].correct,
    wrong: summary.exits[t].labelled - summary.exits[t].correct,
    unlabelled: summary.exits[t].exited - summary.exits[t].labelled,
  }));
  const anyUnlabelled = data.some((d) => d.unlabelled > 0);
  return (
    <div className="chart-box">
      <ResponsiveContainer>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="tier" />
          <YAxis allowDecimals={false} />
          <Tooltip />
          <Legend />
          <Bar dataKey="correct" stackId="a" name="answered right (tier colour)" fill="#2f9e6b" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.tier} fill={TIER_COLORS[d.tier]} />
            ))}
          </Bar>
          <Bar dataKey="wrong" stackId="a" name="answered wrong" fill="#e08a84" isAnimationActive={false} />
          {anyUnlabelled && <Bar dataKey="unlabelled" stackId="a" name="no label (yet)" fill="#c3c8d4" isAnimationActive={false} />}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** `<uuid>-><uuid>` as `1a2b3c4d->cloud`: node ids are long, names of tiers are short. */
/** `a->b` as `a → b`, each device id as its name (`label`) or, unknown, its first 8 characters. */
function shortLink(link: string, label?: (id: string) => string | undefined): string {
  return link
    .split('->')
    .map((n) => label?.(n) ?? (/^[0-9a-f]{8}-[0-9a-f-]{27,}$/i.test(n) ? n.slice(0, 8) : n))
    .join(' → ');
}

/** Counted bytes per link, largest first. */
export function LinkBytesChart({ bytesByLink, label }: { bytesByLink: Record<string, number>; label?: (id: string) => string | undefined }) {
  const data = Object.entries(bytesByLink)
    .map(([link, bytes]) => ({ link: shortLink(link, label), bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12);
  return (
    <div className="chart-box" style={{ height: Math.max(140, 28 * data.length + 40) }} data-testid="link-bytes" data-links={data.map((d) => d.link).join('|')}>
      <ResponsiveContainer>
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" tickFormatter={(v: number) => fmtBytes(v)} />
          <YAxis type="category" dataKey="link" width={130} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => fmtBytes(Number(v))} />
          <Bar dataKey="bytes" fill="#5b6ee1" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Cumulative accuracy and local exit rate against decided samples, with a cursor. */
export function CumulativeRates({ data, cursor }: { data: { n: number; accuracy: number | null; localExitRate: number }[]; cursor?: number }) {
  return (
    <div className="chart-box">
      <ResponsiveContainer>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="n" type="number" domain={[1, Math.max(1, cursor ?? data.length)]} allowDecimals={false} />
          <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
          <Tooltip formatter={(v) => fmtPct(Number(v))} labelFormatter={(n) => `after ${n} samples`} />
          <Legend />
          <Line dataKey="accuracy" name="accuracy" stroke="#1d2330" dot={false} isAnimationActive={false} connectNulls />
          <Line dataKey="localExitRate" name="local exit rate" stroke="#2f9e6b" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** Cumulative counted bytes against decided samples. */
export function CumulativeBytes({ data, cursor }: { data: { n: number; bytesTotal: number }[]; cursor?: number }) {
  return (
    <div className="chart-box">
      <ResponsiveContainer>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="n" type="number" domain={[1, Math.max(1, cursor ?? data.length)]} allowDecimals={false} />
          <YAxis tickFormatter={(v: number) => fmtBytes(v)} width={70} />
          <Tooltip formatter={(v) => fmtBytes(Number(v))} labelFormatter={(n) => `after ${n} samples`} />
          <Line dataKey="bytesTotal" name="bytes (cumulative)" stroke="#5b6ee1" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
