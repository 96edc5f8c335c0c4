'use client';
import Link from 'next/link';
import { useState } from 'react';
import { SESSION_STATUSES, type SessionStatus } from '@ddnn/contracts';
import { SessionTable } from '../../components/session-table';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { sessionsWithSummaries } from '../../lib/sessions';
import { useAsync } from '../../lib/use-async';

const PAGE = 25;

export default function SessionsPage() {
  const [status, setStatus] = useState<SessionStatus | ''>('');
  const [text, setText] = useState('');
  const [offset, setOffset] = useState(0);
  const { data, error, loading, reload } = useAsync(
    () => sessionsWithSummaries({ status: status || undefined, limit: PAGE, offset }),
    [status, offset],
    5000,
  );
  const needle = text.trim().toLowerCase();
  const shown = (data?.items ?? []).filter(
    (s) => !needle || [s.id, s.dataset, s.modelId, s.mode, s.split].some((v) => v.toLowerCase().includes(needle)),
  );
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Sessions</h1>
          <p>Every run of the hierarchy over a dataset: live ones update every few seconds.</p>
        </div>
        <Link href="/sessions/new">
          <button type="button">Start a session</button>
        </Link>
      </div>
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
          <input placeholder="Filter by id, dataset, model, mode…" value={text} onChange={(e) => setText(e.target.value)} style={{ width: 280 }} />
          <span className="grow" />
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
        {shown.length > 0 && <SessionTable sessions={shown} />}
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
