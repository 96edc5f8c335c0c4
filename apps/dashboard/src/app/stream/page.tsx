'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import type { LiveProgressMessage, SampleWindow, StoredEvent, StreamView } from '@ddnn/contracts';
import { DecidedSamplesTable, DeviceHealthCard, ExitAndBytesCards, MissedStat, UnansweredNote } from '../../components/run-panels';
import { DeleteRunButton } from '../../components/session/delete-run-button';
import { RunDeletingNote } from '../../components/session/run-deleting-note';
import { gapsLine, StreamGapsCard } from '../../components/stream-gaps';
import { Card, Empty, ErrorNote, LiveIndicator, Loading, Stat, StatusBadge } from '../../components/ui';
import { api, STREAM_WINDOW_EVENT_CAP, streamWindowEvents } from '../../lib/api';
import { useDeviceNames } from '../../lib/device-names';
import { fmtBytes, fmtPct, fmtTime } from '../../lib/format';
import { useLiveRun } from '../../lib/live';
import { livePolicyLabel } from '../../lib/policy';
import { figuresOfSummary, figuresOfTotals, latestDecisions, sampleBounds, WINDOW_PRESETS, type WindowKey, windowBounds, windowEvents, windowGaps, windowSummary } from '../../lib/stream-window';
import { metricsApi } from '../../lib/metrics';
import { useAsync } from '../../lib/use-async';
import { asError } from '../../lib/errors';
import { windowParam } from '../../lib/compare';

const FINISHED = new Set(['completed', 'stopped', 'failed']);
/** The fallback: without the live feed, the stream and its window are read again this often. */
const REFRESH_MS = 3000;
/** How often a window too long to read event by event has its totals read again while the stream runs. */
const TOTALS_REFRESH_MS = 10_000;
/** How often a preset window's start moves on. */
const CLOCK_MS = 2000;

/** datetime-local's value for an instant (local time, minutes). */
const localInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

function WindowPicker({ value, custom, onChange, onCustom }: { value: WindowKey; custom: { from: string; to: string }; onChange: (k: WindowKey) => void; onCustom: (c: { from: string; to: string }) => void }) {
  return (
    <div className="toolbar" role="group" aria-label="time window">
      {WINDOW_PRESETS.map((p) => (
        <button key={p.key} type="button" className={value === p.key ? undefined : 'secondary'} aria-pressed={value === p.key} onClick={() => onChange(p.key)}>
          {p.label}
        </button>
      ))}
      <button type="button" className={value === 'custom' ? undefined : 'secondary'} aria-pressed={value === 'custom'} onClick={() => onChange('custom')}>
        custom
      </button>
      {value === 'custom' && (
        <>
          <label className="inline">
            from
            <input type="datetime-local" name="windowFrom" value={custom.from} onChange={(e) => onCustom({ ...custom, from: e.target.value })} />
          </label>
          <label className="inline">
            to
            <input type="datetime-local" name="windowTo" value={custom.to} onChange={(e) => onCustom({ ...custom, to: e.target.value })} />
          </label>
        </>
      )}
    </div>
  );
}

/** The compare page's address for a window of a stream: its samples, and the instant they began to be decided. */
function compareHref(id: string, samples: SampleWindow, bounds: { from: string }): string {
  return `/compare?${new URLSearchParams({ windows: windowParam(id, samples, Date.parse(bounds.from)) }).toString()}`;
}

function StreamDetail({ id }: { id: string }) {
  const [win, setWin] = useState<WindowKey>('5m');
  const [custom, setCustom] = useState(() => ({ from: localInput(Date.now() - 3_600_000), to: localInput(Date.now()) }));
  const [stopping, setStopping] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const [deleteError, setDeleteError] = useState<Error | null>(null);
  const [feedUp, setFeedUp] = useState(false);
  const [finished, setFinished] = useState(false);
  // Polled only while the feed is down and the stream can still change.
  const stream = useAsync(() => api.stream(id), [id], feedUp || finished ? undefined : REFRESH_MS);
  useEffect(() => setFinished(!!stream.data && FINISHED.has(stream.data.status)), [stream.data]);
  const running = !!stream.data && !FINISHED.has(stream.data.status);
  // A preset window ends now: its start moves with this clock, which ticks while the stream runs.
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running || win === 'custom') return;
    const t = setInterval(() => setNow(Date.now()), CLOCK_MS);
    return () => clearInterval(t);
  }, [running, win]);
  const bounds = windowBounds(win, custom, now);
  const windowKey = `${win}|${custom.from}|${custom.to}`;
  const openEnded = !!bounds && (!bounds.to || Date.parse(bounds.to) > now);

  // The window is read once over REST; then the live feed adds what is logged after it. Without the feed (or when
  // the window is too large to hold, so it cannot be kept whole) the read is repeated, as a visible fallback.
  const polling = running && openEnded && !feedUp;
  const windowed = useAsync(
    () => {
      const b = windowBounds(win, custom);
      return b ? streamWindowEvents(id, b).then((r) => ({ ...r, key: windowKey })) : Promise.resolve(null);
    },
    [id, windowKey],
    polling ? REFRESH_MS : undefined,
  );
  const read = windowed.data?.key === windowKey ? windowed.data : undefined;
  // A window holding more events than a read takes: its figures come from the rollup's totals over the whole of it.
  const truncated = !!read?.truncated;
  const totals = useAsync(
    () => {
      const b = windowBounds(win, custom);
      return truncated && b ? metricsApi.totals(id, Date.parse(b.from), b.to ? Date.parse(b.to) : Date.now()).then((t) => ({ ...t, key: windowKey })) : Promise.resolve(null);
    },
    [id, windowKey, truncated],
    truncated && running && openEnded ? TOTALS_REFRESH_MS : undefined,
  );
  const [live, setLive] = useState<StoredEvent[]>([]);
  const [progress, setProgress] = useState<LiveProgressMessage>();
  useEffect(() => setLive([]), [windowKey]);
  const lastRead = read?.events.length ? read.events[read.events.length - 1].checkpoint : null;
  const onEvents = useCallback((events: StoredEvent[]) => setLive((l) => [...l, ...events].slice(-STREAM_WINDOW_EVENT_CAP)), []);
  const feed = useLiveRun(
    bounds ? { kind: 'stream', id, from: bounds.from } : null,
    { onEvents, onProgress: setProgress },
    { enabled: running && openEnded && !!read && !read.truncated, initialCheckpoint: lastRead },
  );
  useEffect(() => setFeedUp(feed.state === 'live'), [feed.state]);
  const { reload } = stream;
  // The feed says the stream ended (or changed state): read its row again.
  useEffect(() => {
    if (progress && stream.data && progress.status !== stream.data.status) reload();
  }, [progress, stream.data, reload]);

  const view: StreamView | undefined = stream.data;
  const names = useDeviceNames(view ? view.topology.devices.map((d) => d.deviceId) : [], view?.configuration ?? undefined);
  const events = useMemo(() => (read && bounds ? windowEvents(read.events, live, bounds) : undefined), [read, live, bounds?.from, bounds?.to]);
  const s = useMemo(() => (events ? windowSummary(id, events) : null), [id, events]);
  const decisions = useMemo(() => (events ? latestDecisions(events, 50) : []), [events]);
  const samples = events ? sampleBounds(events) : null;
  // A window after the stream's start holds no StreamStarted, so its fold knows no class names: the stream's has them.
  const classes = s?.classes.length ? s.classes : (view?.summary?.classes ?? []);

  if (stream.error && !view) return <ErrorNote error={stream.error} what={`stream ${id}`} onRetry={stream.reload} />;
  if (!view) return <Loading what="the stream" />;
  const stop = async () => {
    setStopping({ busy: true });
    try {
      await api.stopStream(id);
      stream.reload();
      setStopping({ busy: false });
    } catch (e) {
      setStopping({ busy: false, error: asError(e) });
    }
  };
  const windowQuery = bounds ? `&from=${encodeURIComponent(bounds.from)}${bounds.to ? `&to=${encodeURIComponent(bounds.to)}` : ''}` : '';
  const fromTotals = truncated && totals.data?.key === windowKey ? totals.data : null;
  const f = fromTotals ? figuresOfTotals(fromTotals) : s && !truncated ? figuresOfSummary(s) : null;
  const pending = f ? Math.max(0, f.decided - f.labelled) : null;
  // The stored fold can lag the window's by a moment: the whole stream has at least the window's samples.
  const sinceStart = Math.max(view.summary?.samplesDecided ?? 0, progress?.samplesDecided ?? 0, s?.samplesDecided ?? 0);
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            {view.name ? <span data-testid="stream-name">{view.name}</span> : <>Stream <span className="mono">{id.slice(0, 8)}</span></>} <StatusBadge status={view.status} deletingSince={view.deletingSince} />{' '}
            {running && openEnded ? <LiveIndicator state={feed.state} detail={feed.detail} /> : null}
          </h1>
          <p>
            model {view.modelId} · {livePolicyLabel(view.policy)} · {view.rate} samples/s · deadline {view.deadlineMs} ms · {view.topology.devices.length} devices · started{' '}
            {fmtTime(view.startedAt)}
            {gapsLine(view.summary?.gaps) ? <span data-testid="stream-gaps-line"> · since it started: {gapsLine(view.summary?.gaps)}</span> : null}
          </p>
        </div>
        {running && (
          <button type="button" className="danger" onClick={stop} disabled={stopping.busy}>
            {stopping.busy ? 'Stopping…' : 'Stop'}
          </button>
        )}
        <Link href={`/topology?stream=${id}`}>
          <button type="button" className="secondary">
            Topology
          </button>
        </Link>
        {!running && !view.deletingSince && <DeleteRunButton kind="stream" id={id} label={view.name ? `the stream "${view.name}"` : 'this stream'} onError={setDeleteError} />}
      </div>
      {stopping.error && <ErrorNote error={stopping.error} action="stop" what="the stream" />}
      {deleteError && <ErrorNote error={deleteError} action="delete" what="the stream" />}
      {view.deletingSince && <RunDeletingNote kind="stream" since={view.deletingSince} />}
      {view.error && <div className="note error">The stream failed: {view.error}</div>}
      {polling && feed.state === 'stale' && (
        <p className="note" data-testid="live-fallback">
          The live feed is down ({feed.detail || feed.state}): the window is read again every {REFRESH_MS / 1000} s until it is back.
        </p>
      )}
      <Card
        title="Time window"
        actions={
          samples && bounds ? (
            <Link href={compareHref(id, samples, bounds)} data-testid="compare-window-link">
              <button type="button" className="secondary">
                Compare policies over this window
              </button>
            </Link>
          ) : undefined
        }
      >
        <WindowPicker value={win} custom={custom} onChange={setWin} onCustom={setCustom} />
        {!bounds && <p className="note error">The custom window needs a start before its end.</p>}
        <p className="muted" data-testid="window-text" style={{ marginBottom: 0 }}>
          {bounds ? `${fmtTime(bounds.from)} → ${bounds.to ? fmtTime(bounds.to) : 'now'}` : ''}
          {f ? ` · ${f.decided} samples decided in this window` : ''}
          {view.summary || progress ? ` · ${sinceStart} since the stream started` : ''}
          {progress?.accuracy != null ? ` (accuracy ${fmtPct(progress.accuracy)} on ${progress.labelled} labelled)` : ''}
          {truncated
            ? ` · the window holds more than ${STREAM_WINDOW_EVENT_CAP} events: its figures come from the per-minute rollup of the whole window, the cards below its first ${STREAM_WINDOW_EVENT_CAP} events (not followed live)`
            : ''}
        </p>
        {windowed.error && <ErrorNote error={windowed.error} what="the window's events" onRetry={windowed.reload} />}
        {totals.error && <ErrorNote error={totals.error} what="the window's totals" onRetry={totals.reload} />}
      </Card>
      <UnansweredNote summary={null} counts={f ? { unanswered: f.unanswered, answered: f.decided } : null} />
      <StreamGapsCard gaps={bounds ? windowGaps(s?.gaps, view.summary?.gaps?.recent, bounds, fromTotals?.gaps) : undefined} />
      <div className="stats">
        <Stat label="Samples in window" testId="stat-samples" value={f ? f.decided : '–'} sub={f ? `${f.triggered} triggered` : undefined} />
        <Stat label="Accuracy on labelled" testId="stat-accuracy" value={fmtPct(f?.accuracy)} sub={f ? `${f.correct} right of ${f.labelled} labelled · ${pending} awaiting a label` : undefined} />
        <Stat label="Local exit rate" value={fmtPct(f?.localExitRate)} sub={f ? `${f.localExits} of ${f.decided}` : undefined} />
        <Stat label="Bytes per sample" testId="stat-bytes" value={fmtBytes(f?.bytesPerSample)} sub={f ? `${fmtBytes(f.bytes)} in the window` : undefined} />
        <MissedStat summary={null} tally={f?.misses ?? null} />
      </div>
      {!s || s.samplesDecided === 0 ? (
        <Empty title={windowed.loading && !s ? 'Reading the window…' : running && openEnded ? 'No sample decided in this window yet…' : 'No sample was decided in this window.'} />
      ) : (
        <div className="grid cols-2">
          <ExitAndBytesCards summary={s} names={names} />
          <DeviceHealthCard summary={s} names={names} />
          <Card title={running && feedUp ? 'Latest decisions (live)' : 'Latest decisions'}>
            <div className="table-wrap" style={{ maxHeight: 320, overflowY: 'auto' }}>
              <DecidedSamplesTable rows={decisions} classes={classes} replayHref={(i) => `/replay?stream=${id}&sample=${i}${windowQuery}`} testId="window-samples" />
            </div>
          </Card>
        </div>
      )}
    </>
  );
}

function Inner() {
  const id = useSearchParams().get('id');
  if (!id)
    return (
      <Empty title="No stream chosen.">
        Pick one on the <Link href="/sessions">runs</Link> page.
      </Empty>
    );
  return <StreamDetail key={id} id={id} />;
}

export default function StreamPage() {
  return (
    <Suspense fallback={<Loading what="the stream" />}>
      <Inner />
    </Suspense>
  );
}
