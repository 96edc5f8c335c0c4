'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { bytesByLink, type ExitDecided, type LiveProgressMessage, type SessionView, type StoredEvent } from '@ddnn/contracts';
import { ExitsChart, LinkBytesChart } from '../../components/charts';
import { Card, Empty, ErrorNote, LiveIndicator, Loading, Stat, StatusBadge } from '../../components/ui';
import { api } from '../../lib/api';
import { fmtBytes, fmtDuration, fmtPct, fmtTime } from '../../lib/format';
import { useLiveSession } from '../../lib/live';
import { livePolicyLabel, localExitRate } from '../../lib/policy';

const FINISHED = new Set(['completed', 'stopped', 'failed']);

function SessionDetail({ id }: { id: string }) {
  const [session, setSession] = useState<SessionView>();
  const [error, setError] = useState<Error>();
  const [progress, setProgress] = useState<LiveProgressMessage>();
  const [recent, setRecent] = useState<ExitDecided[]>([]);
  const [stopping, setStopping] = useState(false);
  const refetching = useRef<Promise<void> | null>(null);
  const again = useRef(false);

  // The summary is folded server-side from the log; refetch it when the feed says something changed.
  const refresh = useCallback(() => {
    if (refetching.current) {
      again.current = true;
      return;
    }
    refetching.current = api
      .session(id)
      .then((s) => {
        setSession(s);
        setError(undefined);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e : new Error(String(e))))
      .finally(() => {
        refetching.current = null;
        if (again.current) {
          again.current = false;
          setTimeout(refresh, 500);
        }
      });
  }, [id]);
  useEffect(refresh, [refresh]);

  const running = !!session && !FINISHED.has(session.status);
  const onEvents = useCallback(
    (events: StoredEvent[]) => {
      const exits = events.flatMap((e) => (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow ? [e.data] : []));
      if (exits.length) setRecent((r) => [...exits.reverse(), ...r].slice(0, 10));
      if (events.some((e) => e.type === 'SessionCompleted' || e.type === 'SessionAborted')) refresh();
    },
    [refresh],
  );
  const onProgress = useCallback(
    (p: LiveProgressMessage) => {
      setProgress(p);
      refresh();
    },
    [refresh],
  );
  const feed = useLiveSession(id, { onEvents, onProgress }, { enabled: running, initialCheckpoint: session?.summary?.checkpoint ?? null });
  // A finished session gets no more messages: one last refetch when the feed says it ended.
  useEffect(() => {
    if (progress && FINISHED.has(progress.status) && session && !FINISHED.has(session.status)) refresh();
  }, [progress, session, refresh]);
  // Without socket messages (stale feed) keep the page honest by polling.
  useEffect(() => {
    if (!running || feed.state === 'live') return;
    const t = setInterval(refresh, 3000);
    return () => clearInterval(t);
  }, [running, feed.state, refresh]);

  if (error && !session) return <ErrorNote error={error} what={`session ${id}`} onRetry={refresh} />;
  if (!session) return <Loading what="the session" />;
  const s = session.summary;
  const done = Math.max(session.samplesDone, progress?.samplesDone ?? 0);
  const total = session.sampleCount ?? progress?.sampleCount ?? null;
  const elapsed = session.startedAt ? (session.finishedAt ? new Date(session.finishedAt).getTime() : Date.now()) - new Date(session.startedAt).getTime() : null;
  const stop = async () => {
    setStopping(true);
    try {
      setSession(await api.stopSession(id));
    } catch (e) {
      setError(e instanceof Error ? e : new Error(String(e)));
    } finally {
      setStopping(false);
    }
  };
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            Session <span className="mono">{id.slice(0, 8)}</span> <StatusBadge status={session.status} />{' '}
            {running ? <LiveIndicator state={feed.state} detail={feed.detail} /> : null}
          </h1>
          <p>
            {session.dataset}/{session.split} · model {session.modelId} · {livePolicyLabel(session.policy)} · {session.mode} · deadline{' '}
            {session.deadlineMs} ms · {session.topology.devices.length} devices
            {session.topology.edges?.length ? ` · ${session.topology.edges.length} edges` : ''}
          </p>
        </div>
        {running && (
          <button type="button" className="danger" onClick={stop} disabled={stopping}>
            {stopping ? 'Stopping…' : 'Stop'}
          </button>
        )}
        <Link href={`/replay?session=${id}`}>
          <button type="button" className="secondary">
            Replay
          </button>
        </Link>
        <Link href={`/topology?session=${id}`}>
          <button type="button" className="secondary">
            Topology
          </button>
        </Link>
      </div>
      {error && <ErrorNote error={error} what="the latest state" onRetry={refresh} />}
      {session.error && <div className="note error">The session failed: {session.error}</div>}
      <Card>
        <div style={{ display: 'flex', justifyContent: 'space-between', marginBottom: 6 }}>
          <span data-testid="progress-text">
            {done}
            {total !== null ? ` / ${total}` : ''} samples
          </span>
          <span className="muted">
            {session.status === 'pending' ? `queued ${fmtTime(session.createdAt)}` : `started ${fmtTime(session.startedAt)} · ${fmtDuration(elapsed)}`}
          </span>
        </div>
        <div className="progress" role="progressbar" aria-valuenow={done} aria-valuemax={total ?? undefined}>
          <div style={{ width: total ? `${(100 * done) / total}%` : '0%' }} />
        </div>
      </Card>
      <div className="stats">
        <Stat label="Accuracy so far" testId="stat-accuracy" value={fmtPct(s?.accuracy)} sub={s ? `${s.correct} / ${s.labelled} labelled` : undefined} />
        <Stat label="Local exit rate" value={fmtPct(localExitRate(s))} sub={s ? `${s.exits.local.exited} of ${s.samplesDecided} decided` : undefined} />
        <Stat label="Bytes per sample" value={fmtBytes(s?.bytes.perSample)} sub={s ? `${fmtBytes(s.bytes.total)} in all` : undefined} />
        <Stat label="Missed device replies" testId="stat-missed" value={s ? s.missed : '–'} sub={s && s.bytes.shadowTotal ? `${fmtBytes(s.bytes.shadowTotal)} shadow traffic` : undefined} />
      </div>
      {!s || s.samplesDecided === 0 ? (
        <Empty title={running ? 'Waiting for the first decided sample…' : 'This session decided no samples.'} />
      ) : (
        <div className="grid cols-2">
          <Card title="Exits per tier">
            <ExitsChart summary={s} />
          </Card>
          <Card title="Bytes per link">
            <LinkBytesChart bytesByLink={bytesByLink(s)} />
          </Card>
          <Card title="Device health">
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Device</th>
                    <th className="num">View</th>
                    <th className="num">Answered</th>
                    <th className="num">Missed</th>
                    <th className="num">Miss rate</th>
                    <th className="num">Mean latency</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(s.devices).map(([d, t]) => (
                    <tr key={d}>
                      <td className="mono" title={d}>
                        {d.slice(0, 13)}
                      </td>
                      <td className="num">{t.view ?? '–'}</td>
                      <td className="num">{t.answered}</td>
                      <td className="num">{t.missed}</td>
                      <td className="num">{fmtPct(t.answered + t.missed ? t.missed / (t.answered + t.missed) : null)}</td>
                      <td className="num">{t.meanLatencyMs === null ? '–' : `${t.meanLatencyMs.toFixed(1)} ms`}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Card>
          <Card title={running ? 'Latest exits (live)' : 'Latest exits'}>
            {recent.length === 0 ? (
              <p className="muted">{running ? 'Exits appear here as samples are decided.' : 'Open the replay to step through every sample.'}</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th className="num">Sample</th>
                    <th>Exit</th>
                    <th className="num">η</th>
                    <th>Prediction</th>
                  </tr>
                </thead>
                <tbody>
                  {recent.map((x) => (
                    <tr key={`${x.sampleIndex}-${x.tier}`}>
                      <td className="num">
                        <Link href={`/replay?session=${id}&sample=${x.sampleIndex}`}>{x.sampleIndex}</Link>
                      </td>
                      <td>
                        <span className={`badge tier-${x.tier}`}>{x.tier}</span>
                      </td>
                      <td className="num">{x.eta.toFixed(3)}</td>
                      <td>{x.label === null ? `class ${x.prediction}` : x.prediction === x.label ? '✓ right' : '✗ wrong'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
        </div>
      )}
      {session.stats && (
        <Card title="Where the time went">
          <dl className="kv">
            <dt>Duration</dt>
            <dd>{fmtDuration(session.stats.durationMs)}</dd>
            <dt>Server sections</dt>
            <dd>{fmtDuration(session.stats.serverModelMs)}</dd>
            <dt>Device compute</dt>
            <dd>{fmtDuration(session.stats.deviceModelMs)}</dd>
            <dt>Transport</dt>
            <dd>{fmtDuration(session.stats.transportMs)}</dd>
            <dt>Logging</dt>
            <dd>{fmtDuration(session.stats.loggingMs)}</dd>
            <dt>Events</dt>
            <dd>{session.stats.events}</dd>
          </dl>
        </Card>
      )}
    </>
  );
}

function Inner() {
  const id = useSearchParams().get('id');
  if (!id)
    return (
      <Empty title="No session chosen.">
        Pick one on the <Link href="/sessions">sessions</Link> page.
      </Empty>
    );
  return <SessionDetail key={id} id={id} />;
}

export default function SessionPage() {
  return (
    <Suspense fallback={<Loading what="the session" />}>
      <Inner />
    </Suspense>
  );
}
