'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useCallback, useEffect, useState } from 'react';
import { type ExitDecided, type LiveProgressMessage, type StoredEvent } from '@ddnn/contracts';
import { DecidedSamplesTable, DeviceHealthCard, ExitAndBytesCards, MissedStat, UnansweredNote } from '../../components/run-panels';
import { ConfigurationCard } from '../../components/session/configuration-card';
import { DeleteRunButton } from '../../components/session/delete-run-button';
import { RunDeletingNote } from '../../components/session/run-deleting-note';
import { ProgressCard } from '../../components/session/progress-card';
import { RunCard } from '../../components/session/run-card';
import { TimeCard } from '../../components/session/time-card';
import { useSessionView } from '../../components/session/use-session-view';
import { Card, Empty, ErrorNote, LiveIndicator, Loading, Stat, StatusBadge } from '../../components/ui';
import { api } from '../../lib/api';
import { useDeviceNames } from '../../lib/device-names';
import { fmtBytes, fmtPct } from '../../lib/format';
import { useLiveRun } from '../../lib/live';
import { livePolicyLabel, localExitRate } from '../../lib/policy';
import { asError } from '../../lib/errors';

const FINISHED = new Set(['completed', 'stopped', 'failed']);

function SessionDetail({ id }: { id: string }) {
  const { session, setSession, error, setError, refresh } = useSessionView(id);
  const [progress, setProgress] = useState<LiveProgressMessage>();
  const [recent, setRecent] = useState<ExitDecided[]>([]);
  const [stopping, setStopping] = useState(false);
  const [deleteError, setDeleteError] = useState<Error | null>(null);

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
  const feed = useLiveRun({ kind: 'session', id }, { onEvents, onProgress }, { enabled: running, initialCheckpoint: session?.summary?.checkpoint ?? null });
  const names = useDeviceNames(session ? session.topology.devices.map((d) => d.deviceId) : [], session?.configuration);
  // A finished session gets no more messages: one last refetch when the feed says it ended.
  useEffect(() => {
    if (progress && FINISHED.has(progress.status) && session && !FINISHED.has(session.status)) refresh();
  }, [progress, session, refresh]);
  // The row can say the session ended before its log is readable to the end: poll until the summary ends too.
  useEffect(() => {
    // (A session that failed before logging anything has no summary: nothing to wait for.)
    const trailing = session && FINISHED.has(session.status) && (session.summary ? session.summary.status === 'running' : session.status === 'completed');
    if (!trailing) return;
    const t = setTimeout(refresh, 1000);
    return () => clearTimeout(t);
  }, [session, refresh]);
  // Without socket messages (stale feed) keep the page honest by polling.
  useEffect(() => {
    if (!running || feed.state === 'live') return;
    const t = setInterval(refresh, 3000);
    return () => clearInterval(t);
  }, [running, feed.state, refresh]);

  if (error && !session) return <ErrorNote error={error} what={`session ${id}`} onRetry={refresh} />;
  if (!session) return <Loading what="the session" />;
  const s = session.summary;
  const stop = async () => {
    setStopping(true);
    try {
      setSession(await api.stopSession(id));
    } catch (e) {
      setError(asError(e));
    } finally {
      setStopping(false);
    }
  };
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            {session.name ? <span data-testid="session-name">{session.name}</span> : <>Session <span className="mono">{id.slice(0, 8)}</span></>}{' '}
            <StatusBadge status={session.status} deletingSince={session.deletingSince} />{' '}
            {running ? <LiveIndicator state={feed.state} detail={feed.detail} /> : null}
          </h1>
          <p>
            {session.dataset}/{session.split} · model {session.modelId} · {livePolicyLabel(session.policy)} · {session.mode} · deadline{' '}
            {session.deadlineMs} ms · {session.topology.devices.length} devices
            {session.topology.edges?.length ? ` · ${session.topology.edges.length} edges` : ''}
            {session.tags.map((t) => (
              <span key={t} className="badge tag" data-testid="session-tag">
                {t}
              </span>
            ))}
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
        {!running && !session.deletingSince && <DeleteRunButton kind="session" id={id} label={session.name ? `the session "${session.name}"` : 'this session'} onError={setDeleteError} />}
      </div>
      {error && <ErrorNote error={error} what="the latest state" onRetry={refresh} />}
      {deleteError && <ErrorNote error={deleteError} action="delete" what="the session" />}
      {session.deletingSince && <RunDeletingNote kind="session" since={session.deletingSince} />}
      {session.error && <div className="note error">The session failed: {session.error}</div>}
      <ProgressCard session={session} progress={progress} />
      {session.status === 'pending' && (
        <div className="note" data-testid="pending-note">
          Pending: no node has picked this session up yet. Each API node runs at most <code>DDNN_MAX_SESSIONS</code> runs at once, and a running stream
          holds its slot until it is stopped; stop a run on the Sessions or Streams page to free one.
        </div>
      )}
      <UnansweredNote summary={s} />
      <div className="stats">
        <Stat label="Accuracy so far" testId="stat-accuracy" value={fmtPct(s?.accuracy)} sub={s ? `${s.correct} / ${s.labelled} labelled` : undefined} />
        <Stat label="Local exit rate" value={fmtPct(localExitRate(s))} sub={s ? `${s.exits.local.exited} of ${s.samplesDecided} decided` : undefined} />
        <Stat
          label="Bytes per sample"
          value={fmtBytes(s?.bytes.perSample)}
          sub={s ? `${fmtBytes(s.bytes.total)} in all${s.bytes.shadowTotal ? ` · ${fmtBytes(s.bytes.shadowTotal)} shadow traffic` : ''}` : undefined}
        />
        <MissedStat summary={s} />
      </div>
      {!s || s.samplesDecided === 0 ? (
        <Empty title={running ? 'Waiting for the first decided sample…' : 'This session decided no samples.'} />
      ) : (
        <div className="grid cols-2">
          <ExitAndBytesCards summary={s} names={names} />
          <DeviceHealthCard summary={s} names={names} />
          <Card title={running ? 'Latest exits (live)' : 'Latest exits'}>
            {recent.length === 0 ? (
              <p className="muted">{running ? 'Exits appear here as samples are decided.' : 'Open the replay to step through every sample.'}</p>
            ) : (
              <DecidedSamplesTable rows={recent} classes={s.classes} replayHref={(i) => `/replay?session=${id}&sample=${i}`} />
            )}
          </Card>
        </div>
      )}
      <RunCard session={session} onSaved={setSession} />
      <ConfigurationCard session={session} names={names} />
      {session.stats && <TimeCard stats={session.stats} started={session.summary?.samplesStarted ?? null} logEvents={session.summary?.events ?? null} />}
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
