'use client';
import Link from 'next/link';
import { type ReactNode, useState } from 'react';
import type { AlertListQuery, AlertView } from '@ddnn/contracts';
import { api } from '../lib/api';
import { describeCondition } from '../lib/alert-rule-form';
import { fmtAgo, fmtNum, fmtTime, shortId } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { Card, Empty, ErrorNote, Loading } from './ui';
import { useAction } from '../lib/use-action';

/** How long the Silence button mutes an alert's notifications. */
const SILENCE_CHOICES = [
  { label: '1 h', ms: 3_600_000 },
  { label: '4 h', ms: 4 * 3_600_000 },
  { label: '24 h', ms: 86_400_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
];

function Subject({ a }: { a: AlertView }) {
  if (a.subject.deviceId) {
    return <Link href={`/device?id=${encodeURIComponent(a.subject.deviceId)}`}>{a.subjectName ?? `device ${shortId(a.subject.deviceId)}`}</Link>;
  }
  if (a.subject.runId) return <Link href={`/session?id=${encodeURIComponent(a.subject.runId)}`}>run {shortId(a.subject.runId)}</Link>;
  return <span>fleet</span>;
}

function Since({ a, now }: { a: AlertView; now: number }) {
  if (a.state === 'resolved') {
    return <span title={`opened ${fmtTime(a.pendingSince)}`}>{fmtTime(a.resolvedAt)} · {a.resolvedReason?.replace('-', ' ')}</span>;
  }
  const since = a.firedAt ?? a.pendingSince;
  return <span title={fmtTime(since)}>{a.state === 'firing' ? 'firing' : 'pending'} {fmtAgo(since, now).replace(' ago', '')}</span>;
}

function AlertActions({ a, onChange }: { a: AlertView; onChange: () => void }) {
  const [silenceMs, setSilenceMs] = useState(SILENCE_CHOICES[0].ms);
  const { busy, error, run } = useAction(onChange);
  // A resolved alert's silence only mutes the next alert of its rule and subject: managed from that one.
  if (a.state === 'resolved') return null;
  const silenced = a.silencedUntil !== null && Date.parse(a.silencedUntil) > Date.now();
  return (
    <div className="row-actions">
      {!a.acknowledgedAt && (
        <button type="button" className="secondary small" disabled={busy} onClick={() => run(() => api.acknowledgeAlert(a.id))}>
          Acknowledge
        </button>
      )}
      {silenced ? (
        <button type="button" className="secondary small" disabled={busy} onClick={() => run(() => api.silenceAlert(a.id, new Date().toISOString()))}>
          Unsilence
        </button>
      ) : (
        <span className="inline-control">
            <select aria-label="Silence for" value={silenceMs} onChange={(e) => setSilenceMs(Number(e.target.value))} disabled={busy}>
              {SILENCE_CHOICES.map((c) => (
                <option key={c.ms} value={c.ms}>
                  {c.label}
                </option>
              ))}
            </select>
            <button type="button" className="secondary small" disabled={busy} onClick={() => run(() => api.silenceAlert(a.id, new Date(Date.now() + silenceMs).toISOString()))}>
              Silence
            </button>
        </span>
      )}
      {error && <ErrorNote error={error} action="update" what="the alert" />}
    </div>
  );
}

/**
 * Alerts matching a query (a device's, a run's, open or past), newest first with firing ones on top, with
 * acknowledge and silence. Polls so a page shows alerts as they fire and resolve.
 */
export function AlertsList({
  query,
  title = 'Alerts',
  empty = 'No alerts.',
  pollMs = 5000,
  actions,
}: {
  query: AlertListQuery;
  title?: ReactNode;
  empty?: ReactNode;
  pollMs?: number;
  actions?: ReactNode;
}) {
  const list = useAsync(() => api.alerts({ limit: 50, ...query }), [JSON.stringify(query)], pollMs);
  const now = Date.now();
  const items = list.data?.items ?? [];
  return (
    <Card title={title} actions={actions} className="alerts-list">
      {list.error && <ErrorNote error={list.error} what="alerts" onRetry={list.reload} />}
      {!list.data && !list.error && <Loading what="alerts" />}
      {list.data && items.length === 0 && <Empty title={String(empty)} />}
      {items.length > 0 && (
        <div className="table-wrap">
          <table data-testid="alerts-table">
            <thead>
              <tr>
                <th>Severity</th>
                <th>Rule</th>
                <th>Subject</th>
                <th>Value</th>
                <th>State</th>
                <th>Acknowledged</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {items.map((a) => (
                <tr key={a.id} data-testid="alert-row" data-state={a.state} data-alert-id={a.id}>
                  <td>
                    <span className={`badge severity-${a.severity}`}>{a.severity}</span>
                  </td>
                  <td title={`${a.metric} ${describeCondition(a.condition)}`}>{a.ruleName}</td>
                  <td>
                    <Subject a={a} />
                  </td>
                  <td title={`${a.metric} ${describeCondition(a.condition)}`}>
                    {fmtNum(a.value, 3)} <span className="muted">{describeCondition(a.condition)}</span>
                  </td>
                  <td>
                    <span className={`badge alert-${a.state}`}>{a.state}</span> <Since a={a} now={now} />
                    {a.state !== 'resolved' && a.silencedUntil && Date.parse(a.silencedUntil) > now && (
                      <div className="muted" data-testid="silenced">
                        silenced until {fmtTime(a.silencedUntil)}
                      </div>
                    )}
                  </td>
                  <td>{a.acknowledgedAt ? <span title={a.ackNote ?? ''}>{fmtAgo(a.acknowledgedAt, now)}</span> : <span className="muted">no</span>}</td>
                  <td>
                    <AlertActions a={a} onChange={list.reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data && list.data.total > items.length && (
            <p className="muted">
              {items.length} of {list.data.total} shown.
            </p>
          )}
        </div>
      )}
    </Card>
  );
}
