'use client';
import Link from 'next/link';
import { useMemo, useState } from 'react';
import type { SessionView } from '@ddnn/contracts';
import { fmtBytes, fmtDuration, fmtPct, fmtTime, shortId } from '../lib/format';
import { livePolicyLabel, localExitRate } from '../lib/policy';
import { StatusBadge } from './ui';

type Key = 'status' | 'policy' | 'samples' | 'accuracy' | 'local' | 'bytes' | 'start' | 'duration';

function durationMs(s: SessionView, now: number): number | null {
  if (!s.startedAt) return null;
  const end = s.finishedAt ? new Date(s.finishedAt).getTime() : now;
  return end - new Date(s.startedAt).getTime();
}

function value(s: SessionView, k: Key, now: number): number | string | null {
  switch (k) {
    case 'status':
      return s.status;
    case 'policy':
      return s.policy.thresholds.local;
    case 'samples':
      return s.samplesDone;
    case 'accuracy':
      return s.summary?.accuracy ?? null;
    case 'local':
      return localExitRate(s.summary);
    case 'bytes':
      return s.summary?.bytes.perSample ?? null;
    case 'start':
      return s.startedAt ?? s.createdAt;
    case 'duration':
      return durationMs(s, now);
  }
}

const COLS: { key: Key; label: string; num?: boolean }[] = [
  { key: 'status', label: 'Status' },
  { key: 'policy', label: 'Policy' },
  { key: 'samples', label: 'Samples', num: true },
  { key: 'accuracy', label: 'Accuracy', num: true },
  { key: 'local', label: 'Local exits', num: true },
  { key: 'bytes', label: 'Bytes / sample', num: true },
  { key: 'start', label: 'Started' },
  { key: 'duration', label: 'Duration', num: true },
];

/** Sessions with sortable columns; rows link to the session view. With `onPick`, each row has a box to tick it for comparison. */
export function SessionTable({ sessions, picked = [], onPick }: { sessions: SessionView[]; picked?: string[]; onPick?: (id: string) => void }) {
  const [sort, setSort] = useState<{ key: Key; desc: boolean }>({ key: 'start', desc: true });
  const now = Date.now();
  const rows = useMemo(() => {
    const dir = sort.desc ? -1 : 1;
    return [...sessions].sort((a, b) => {
      const x = value(a, sort.key, now);
      const y = value(b, sort.key, now);
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * dir;
    });
  }, [sessions, sort, now]);
  const head = (c: (typeof COLS)[number]) => (
    <th
      key={c.key}
      className={`sortable ${c.num ? 'num' : ''}`}
      aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
      onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : c.key === 'start' }))}
    >
      {c.label}
      {sort.key === c.key ? (sort.desc ? ' ▾' : ' ▴') : ''}
    </th>
  );
  return (
    <div className="table-wrap">
      <table data-testid="sessions-table">
        <thead>
          <tr>
            {onPick && <th aria-label="compare" />}
            <th>Session</th>
            {COLS.map(head)}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.id} data-session={s.id}>
              {onPick && (
                <td>
                  <input type="checkbox" aria-label={`compare ${s.name || shortId(s.id)}`} checked={picked.includes(s.id)} onChange={() => onPick(s.id)} />
                </td>
              )}
              <td className="wrap" style={{ minWidth: 180 }}>
                <Link href={`/session?id=${s.id}`} className={s.name ? undefined : 'mono'} title={s.id}>
                  {s.name || shortId(s.id)}
                </Link>
                {s.tags.map((t) => (
                  <span key={t} className="badge tag">
                    {t}
                  </span>
                ))}
                <div className="muted">
                  {s.modelId} · {s.dataset}/{s.split} · {s.mode}
                  {s.demo ? ' · demo' : ''}
                </div>
              </td>
              <td>
                <StatusBadge status={s.status} deletingSince={s.deletingSince} />
              </td>
              <td>{livePolicyLabel(s.policy)}</td>
              <td className="num">
                {s.samplesDone}
                {s.sampleCount !== null ? ` / ${s.sampleCount}` : ''}
              </td>
              <td className="num">{fmtPct(s.summary?.accuracy)}</td>
              <td className="num">{fmtPct(localExitRate(s.summary))}</td>
              <td className="num">{fmtBytes(s.summary?.bytes.perSample)}</td>
              <td className="wrap">{fmtTime(s.startedAt ?? s.createdAt)}</td>
              <td className="num">{fmtDuration(durationMs(s, now))}</td>
              <td>
                <Link href={`/replay?session=${s.id}`}>replay</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
