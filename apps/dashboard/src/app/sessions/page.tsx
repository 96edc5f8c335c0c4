'use client';
import Link from 'next/link';
import { useState } from 'react';
import { SESSION_STATUSES, type SessionListQuery, type SessionStatus } from '@ddnn/contracts';
import { SessionTable } from '../../components/session-table';
import { StreamsCard } from '../../components/streams-card';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { sessionsWithSummaries } from '../../lib/sessions';
import { useAsync } from '../../lib/use-async';
import { api } from '../../lib/api';

const PAGE = 25;

export default function SessionsPage() {
  const [status, setStatus] = useState<SessionStatus | ''>('');
  const [filters, setFilters] = useState<Pick<SessionListQuery, 'tag' | 'modelId' | 'dataset' | 'policy' | 'mode'>>({});
  const [text, setText] = useState('');
  const [offset, setOffset] = useState(0);
  // Two runs ticked for the side-by-side comparison; a third tick replaces the older one.
  const [picked, setPicked] = useState<string[]>([]);
  const pick = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));
  const { data, error, loading, reload } = useAsync(
    () => sessionsWithSummaries({ status: status || undefined, ...filters, limit: PAGE, offset }),
    [status, offset, JSON.stringify(filters)],
    5000,
  );
  const models = useAsync(() => api.models(), []);
  const datasets = useAsync(() => api.datasets(), []);
  const filter = <K extends keyof typeof filters>(k: K, v: string) => {
    setFilters((f) => ({ ...f, [k]: v.trim() || undefined }));
    setOffset(0);
  };
  const needle = text.trim().toLowerCase();
  const shown = (data?.items ?? []).filter(
    (s) => !needle || [s.id, s.name, s.note, s.dataset, s.modelId, s.mode, s.split, ...s.tags].some((v) => v.toLowerCase().includes(needle)),
  );
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Sessions</h1>
          <p>Streams (production runs on live sources, no end) and every run of the hierarchy over a dataset: live ones update every few seconds.</p>
        </div>
        <Link href="/sessions/new">
          <button type="button">Start a session</button>
        </Link>
      </div>
      <StreamsCard />
      <Card>
        <div className="toolbar">
          <label className="inline">
            Status
            <select
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as SessionStatus | '');
                setOffset(0);
              }}
            >
              <option value="">all</option>
              {SESSION_STATUSES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </label>
          <input aria-label="tag filter" placeholder="tag" value={filters.tag ?? ''} onChange={(e) => filter('tag', e.target.value)} style={{ width: 100 }} />
          <select aria-label="model filter" value={filters.modelId ?? ''} onChange={(e) => filter('modelId', e.target.value)}>
            <option value="">any model</option>
            {(models.data ?? []).map((m) => (
              <option key={m.id}>{m.id}</option>
            ))}
          </select>
          <select aria-label="dataset filter" value={filters.dataset ?? ''} onChange={(e) => filter('dataset', e.target.value)}>
            <option value="">any dataset</option>
            {(datasets.data ?? []).map((d) => (
              <option key={d.name}>{d.name}</option>
            ))}
          </select>
          <input aria-label="policy filter" placeholder="entropy T=0.8" value={filters.policy ?? ''} onChange={(e) => filter('policy', e.target.value)} style={{ width: 120 }} />
          <select aria-label="mode filter" value={filters.mode ?? ''} onChange={(e) => filter('mode', e.target.value)}>
            <option value="">any mode</option>
            <option value="production">production</option>
            <option value="research">research</option>
          </select>
          <input placeholder="Search this page…" value={text} onChange={(e) => setText(e.target.value)} style={{ width: 170 }} />
          <span className="grow" />
          {picked.length === 2 ? (
            <Link className="button" href={`/sessions/compare?a=${picked[0]}&b=${picked[1]}`}>
              Compare the 2 ticked runs
            </Link>
          ) : (
            <span className="muted">tick two runs to compare them</span>
          )}
          {loading && data && <span className="muted">refreshing…</span>}
        </div>
        {error && <ErrorNote error={error} what="sessions" onRetry={reload} />}
        {!data && loading && <Loading what="sessions" />}
        {data && data.total === 0 && (
          <Empty title={status ? `No ${status} sessions.` : 'No sessions yet.'}>
            <Link href="/sessions/new">Start one</Link> from the form.
          </Empty>
        )}
        {data && data.total > 0 && shown.length === 0 && <Empty title="No session on this page matches the filter." />}
        {shown.length > 0 && <SessionTable sessions={shown} picked={picked} onPick={pick} />}
        {data && data.total > PAGE && (
          <div className="pager">
            {offset + 1}–{Math.min(offset + PAGE, data.total)} of {data.total}
            <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Previous
            </button>
            <button type="button" className="secondary" disabled={offset + PAGE >= data.total} onClick={() => setOffset(offset + PAGE)}>
              Next
            </button>
          </div>
        )}
      </Card>
    </>
  );
}
