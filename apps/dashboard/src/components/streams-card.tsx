'use client';
import Link from 'next/link';
import type { ReactNode } from 'react';
import type { SessionStatus } from '@ddnn/contracts';
import { api } from '../lib/api';
import { fmtPct, fmtTime } from '../lib/format';
import { livePolicyLabel, localExitRate } from '../lib/policy';
import { useAsync } from '../lib/use-async';
import { Card, Empty, ErrorNote, Loading, StatusBadge } from './ui';

/** Where the list of every stream is: the sessions page's streams card. */
export const STREAMS_ANCHOR = 'streams';
export const STREAMS_HREF = `/sessions#${STREAMS_ANCHOR}`;

/** Streams a card lists: the newest, since streams are few and long-lived (the rest are counted). */
const LISTED = 20;

/**
 * Production streams (no dataset, no end) above the research sessions: what an operator watches first. `status`
 * keeps those in one state (the overview's running ones); `actions` go in the card's header. The card of every
 * stream (no `status`) is the streams list, at `/sessions#streams`.
 */
export function StreamsCard({ status, title = 'Streams', actions }: { status?: SessionStatus; title?: string; actions?: ReactNode }) {
  const { data, error, loading, reload } = useAsync(() => api.streams({ limit: LISTED, status }), [status], 5000);
  return (
    <Card title={title} className="streams-card" actions={actions} id={status ? undefined : STREAMS_ANCHOR}>
      {error && <ErrorNote error={error} what="streams" onRetry={reload} />}
      {!data && loading && <Loading what="streams" />}
      {data && data.total === 0 && !status && <Empty title="No streams yet.">A stream runs the fleet on live sources until stopped (POST /api/streams, or `npm start`'s demo).</Empty>}
      {data && data.total === 0 && status && <Empty title={`No ${status} streams.`} />}
      {data && data.total > 0 && (
        <div className="table-wrap">
          <table data-testid="streams-table" data-total={data.total}>
            <thead>
              <tr>
                <th>Stream</th>
                <th>Status</th>
                <th>Policy</th>
                <th className="num">Rate</th>
                <th className="num">Samples</th>
                <th className="num">Local exits</th>
                <th className="num">Accuracy (labelled)</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((s) => (
                <tr key={s.id} data-stream={s.id}>
                  <td>
                    <Link href={`/stream?id=${s.id}`} className={s.name ? undefined : 'mono'} title={s.id}>
                      {s.name || s.id.slice(0, 8)}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge status={s.status} deletingSince={s.deletingSince} />
                  </td>
                  <td>{livePolicyLabel(s.policy)}</td>
                  <td className="num">{s.rate}/s</td>
                  <td className="num">{s.summary?.samplesDecided ?? s.samplesDone}</td>
                  <td className="num">{fmtPct(localExitRate(s.summary))}</td>
                  <td className="num">{fmtPct(s.summary?.accuracy)}</td>
                  <td>{fmtTime(s.startedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.total > data.items.length && (
            <p className="muted" data-testid="streams-more">
              The newest {data.items.length} of {data.total} streams.
            </p>
          )}
        </div>
      )}
    </Card>
  );
}
