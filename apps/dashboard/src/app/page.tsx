'use client';
import Link from 'next/link';
import { SessionTable } from '../components/session-table';
import { STREAMS_HREF, StreamsCard } from '../components/streams-card';
import { Card, Empty, ErrorNote, Loading, Stat } from '../components/ui';
import { api } from '../lib/api';
import { sessionsWithSummaries } from '../lib/sessions';
import { useAsync } from '../lib/use-async';

export default function OverviewPage() {
  const health = useAsync(() => api.health(), [], 10_000);
  const devices = useAsync(async () => {
    const [all, active] = await Promise.all([api.devices({ limit: 1 }), api.devices({ limit: 1, active: true })]);
    return { total: all.total, active: active.total };
  }, [], 10_000);
  const sessions = useAsync(() => sessionsWithSummaries({ limit: 5, offset: 0 }), [], 5000);
  const running = useAsync(() => api.sessions({ status: 'running', limit: 1 }), [], 5000);
  const streams = useAsync(async () => {
    const [all, live] = await Promise.all([api.streams({ limit: 1 }), api.streams({ status: 'running', limit: 1 })]);
    return { total: all.total, running: live.total };
  }, [], 5000);
  const h = health.data;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Overview</h1>
          <p>Distributed deep neural networks across end devices, the edge and the cloud.</p>
        </div>
      </div>
      <div className="stats">
        <Stat
          label="API"
          testId="stat-api"
          value={h ? h.status : health.error ? 'unreachable' : '…'}
          sub={h ? `v${h.version} · up ${Math.round(h.uptimeSeconds)} s` : health.error?.message}
        />
        <Stat
          label="Database"
          value={h ? (h.details?.database.status ?? h.status) : '…'}
          sub={h?.details ? `${h.details.database.embedded ? 'embedded' : 'external'} · ${h.details.database.latencyMs} ms` : undefined}
        />
        <Stat
          label="Devices"
          value={devices.data ? `${devices.data.active} / ${devices.data.total}` : devices.error ? '–' : '…'}
          sub={devices.error ? 'device list unavailable' : 'active / registered'}
        />
        <Stat
          label="Running sessions"
          testId="stat-running-sessions"
          value={running.data ? running.data.total : running.error ? '–' : '…'}
          sub={sessions.data ? `${sessions.data.total} in all` : undefined}
        />
        <Stat
          label="Running streams"
          testId="stat-running-streams"
          value={streams.data ? streams.data.running : streams.error ? '–' : '…'}
          sub={streams.data ? `${streams.data.total} in all` : streams.error ? 'stream list unavailable' : undefined}
        />
      </div>
      <StreamsCard status="running" title="Running streams" actions={<Link href={STREAMS_HREF}>All streams</Link>} />
      <Card title="Latest sessions" actions={<Link href="/sessions">All sessions</Link>}>
        {sessions.error && <ErrorNote error={sessions.error} what="sessions" onRetry={sessions.reload} />}
        {!sessions.data && sessions.loading && <Loading what="sessions" />}
        {sessions.data && sessions.data.items.length === 0 && (
          <Empty title="No sessions yet.">
            <Link href="/sessions/new">Start a session</Link> to watch samples flow through the hierarchy.
          </Empty>
        )}
        {sessions.data && sessions.data.items.length > 0 && <SessionTable sessions={sessions.data.items} />}
      </Card>
    </>
  );
}
