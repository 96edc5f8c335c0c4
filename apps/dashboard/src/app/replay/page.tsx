'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useEffect, useMemo, useState } from 'react';
import { sessionStartOfStream, type StoredEvent } from '@ddnn/contracts';
import { CumulativeBytes, CumulativeRates } from '../../components/charts';
import { AuthedImage } from '../../components/authed-image';
import { ScoreBars } from '../../components/scores';
import { Card, Empty, ErrorNote, Loading, Stat, StatusBadge } from '../../components/ui';
import { allSessionEvents, api, streamWindowEvents } from '../../lib/api';
import { fmtBytes, fmtPct, fmtTime, shortId } from '../../lib/format';
import { livePolicyLabel } from '../../lib/policy';
import { aggregatedSections, buildReplay, clampPosition, liveCheck, type ReplayModel, type SampleFrame } from '../../lib/replay';
import { useAsync } from '../../lib/use-async';
import { DeviceName, deviceLabel, useDeviceNames } from '../../lib/device-names';

const SPEEDS = [1, 2, 5, 10, 25, 50];

function className(classes: string[], i: number | null): string {
  if (i === null) return 'unknown';
  return classes[i] ?? `class ${i}`;
}

function ViewImage({ dataset, sampleId, view }: { dataset: string; sampleId: string; view: number }) {
  return <AuthedImage className="view-img" alt={`view ${view} of sample ${sampleId}`} load={() => api.viewImage(dataset, sampleId, view)} deps={[dataset, sampleId, view]} />;
}

function SamplePanel({ model, frame }: { model: ReplayModel; frame: SampleFrame }) {
  const started = model.started!;
  // A stream's captures come from live sources and are not stored: only a dataset run has images to show.
  const images = started.dataset !== '';
  // Ask which views exist before asking for images: an uncaptured view has none (no 404s in the console).
  const views = useAsync(() => (images ? api.sampleViews(started.dataset, frame.sampleId) : Promise.resolve(null)), [started.dataset, frame.sampleId]);
  const names = useDeviceNames(
    started.topology.devices.map((d) => d.deviceId),
    started.configuration,
  );
  const classes = started.classes;
  const exit = frame.exit!;
  const right = exit.label !== null && exit.prediction === exit.label;
  const devices = started.topology.devices;
  const sectionFor = (deviceId: string) => [...frame.sections, ...frame.shadowSections].find((s) => s.tier === 'device' && s.node === deviceId);
  return (
    <>
      <div className="stats">
        <Stat label="Sample" testId="replay-sample" value={<span data-testid="replay-sample-index">{frame.sampleIndex}</span>} sub={`id ${frame.sampleId}`} />
        <Stat label="Label" value={className(classes, frame.label)} />
        <Stat
          label="Exited at"
          testId="replay-exit"
          value={
            <span className={`badge tier-${exit.tier}`} data-testid="replay-exit-tier" style={{ fontSize: 16 }}>
              {exit.tier}
            </span>
          }
          sub={
            <span data-testid="replay-eta">
              η = {exit.eta.toFixed(3)} {exit.threshold === null ? '(last exit: always answers)' : `${exit.eta < exit.threshold ? '<' : '≥'} T = ${exit.threshold}`}
            </span>
          }
        />
        <Stat
          label="Prediction"
          value={<span data-testid="replay-prediction">{className(classes, exit.prediction)}</span>}
          sub={exit.label === null ? 'no label' : right ? '✓ right' : '✗ wrong'}
        />
        <Stat label="Bytes for this sample" value={<span data-testid="replay-bytes">{fmtBytes(frame.bytes)}</span>} sub={`${frame.transfers.filter((t) => !t.shadow).length} messages`} />
      </div>
      <div className="grid side">
        <Card title="Devices: each view and its class scores">
          <div className="views">
            {devices.map((d) => {
              const s = sectionFor(d.deviceId);
              const miss = frame.missed.find((m) => m.deviceId === d.deviceId);
              return (
                <div key={d.deviceId} className={`view-tile ${miss ? 'missed' : ''}`} data-testid="replay-device" data-view={d.view}>
                  {!images ? (
                    <div className="view-img">live capture (not stored)</div>
                  ) : views.data && views.data.sampleId === frame.sampleId ? (
                    views.data.captured.includes(d.view) ? (
                      <ViewImage dataset={started.dataset} sampleId={frame.sampleId} view={d.view} />
                    ) : (
                      <div className="view-img">not captured</div>
                    )
                  ) : (
                    <div className="view-img" aria-busy={!views.error}>
                      {views.error ? 'no image' : ''}
                    </div>
                  )}
                  <strong>view {d.view}</strong>
                  <div className="muted">
                    <DeviceName id={d.deviceId} names={names} />
                  </div>
                  {s && <div className="muted">η {s.entropy.toFixed(3)}</div>}
                  {miss && (
                    <div style={{ color: 'var(--bad)' }} data-testid="replay-missed">
                      missed {miss.stage} ({miss.reason})
                    </div>
                  )}
                  <div style={{ clear: 'both' }} />
                  {s ? <ScoreBars probabilities={s.probabilities} classes={classes} /> : !miss && <div className="muted">no scores logged</div>}
                </div>
              );
            })}
          </div>
        </Card>
        <div className="stack">
          <Card title="Aggregated scores and exits">
            {aggregatedSections(frame).length === 0 && <p className="muted">No aggregated section was logged.</p>}
            {aggregatedSections(frame).map((s) => {
              const check = liveCheck(frame, s.tier === 'device' ? 'local' : s.tier);
              return (
                <div key={`${s.tier}-${s.node}-${s.shadow}`} style={{ marginBottom: 10 }} data-testid={`replay-agg-${s.tier}`}>
                  <div>
                    <span className={`badge tier-${s.tier}`}>{s.node}</span> η = {s.entropy.toFixed(3)}
                    {check && check.threshold !== null ? ` vs T = ${check.threshold}` : ''}
                    {s.shadow && <span className="muted"> · shadow (research mode)</span>}
                    {check && <span className="muted"> · {check.exited ? 'exited here' : 'went on'}</span>}
                  </div>
                  <ScoreBars probabilities={s.probabilities} classes={classes} />
                </div>
              );
            })}
          </Card>
          <Card title="Bytes on each link">
            {frame.transfers.length === 0 ? (
              <p className="muted">No transfer logged for this sample.</p>
            ) : (
              <table data-testid="replay-links">
                <thead>
                  <tr>
                    <th>Link</th>
                    <th>Payload</th>
                    <th className="num">Bytes</th>
                  </tr>
                </thead>
                <tbody>
                  {frame.transfers.map((t, i) => (
                    <tr key={i} className={t.shadow ? 'dominated' : undefined}>
                      <td className="mono">
                        {names.has(t.from) ? deviceLabel(t.from, names) : t.from.length > 12 ? shortId(t.from) : t.from} → {t.to}
                      </td>
                      <td>
                        {t.kind}
                        {t.shadow ? ' (shadow)' : ''}
                      </td>
                      <td className="num">{t.bytes}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {frame.missed.length > 0 && <p className="muted">Missed devices: {frame.missed.map((m) => `view ${m.view} (${m.stage}, ${m.reason})`).join(', ')}</p>}
          </Card>
        </div>
      </div>
    </>
  );
}

/** What the player needs of the run it replays: a session, or a window of a stream. */
interface ReplayRun {
  id: string;
  kind: 'session' | 'stream';
  status: string;
}

function Player({ session, events }: { session: ReplayRun; events: StoredEvent[] }) {
  const params = useSearchParams();
  const model = useMemo(() => buildReplay(events), [events]);
  const frames = model.frames;
  const initial = useMemo(() => {
    const sample = params.get('sample');
    if (sample !== null) {
      const i = frames.findIndex((f) => f.sampleIndex === Number(sample));
      if (i >= 0) return i + 1;
    }
    return clampPosition(Number(params.get('t') ?? 1), frames.length);
  }, [params, frames]);
  const [pos, setPos] = useState(initial);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(5);
  useEffect(() => {
    const url = new URL(window.location.href);
    url.searchParams.set(session.kind, session.id);
    url.searchParams.set('t', String(pos));
    url.searchParams.delete('sample');
    window.history.replaceState(window.history.state, '', url.pathname + url.search);
  }, [pos, session.id]);
  useEffect(() => {
    if (!playing) return;
    const t = setInterval(() => {
      setPos((p) => {
        if (p >= frames.length) {
          setPlaying(false);
          return p;
        }
        return p + 1;
      });
    }, 1000 / speed);
    return () => clearInterval(t);
  }, [playing, speed, frames.length]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.target as HTMLElement)?.tagName === 'INPUT' && (e.target as HTMLInputElement).type !== 'range') return;
      if (e.key === 'ArrowRight') setPos((p) => Math.min(frames.length, p + 1));
      else if (e.key === 'ArrowLeft') setPos((p) => Math.max(1, p - 1));
      else if (e.key === ' ') {
        e.preventDefault();
        setPlaying((x) => !x);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [frames.length]);

  if (!model.started) return <Empty title="This session's log has no SessionStarted event yet.">It may still be queued.</Empty>;
  if (frames.length === 0) return <Empty title="No sample was decided in this session yet.">{session.status === 'running' ? 'Reload in a moment.' : ''}</Empty>;
  const frame = frames[pos - 1];
  const upTo = model.cumulative.slice(0, pos);
  const at = upTo[upTo.length - 1];
  return (
    <>
      <Card>
        <div className="player">
          <button type="button" className="secondary" onClick={() => setPos(1)} disabled={pos <= 1} aria-label="first">
            « first
          </button>
          <button type="button" className="secondary" onClick={() => setPos((p) => Math.max(1, p - 1))} disabled={pos <= 1} aria-label="step back">
            ◀ step
          </button>
          <button type="button" onClick={() => setPlaying((x) => !x)} aria-label={playing ? 'pause' : 'play'} style={{ width: 84 }}>
            {playing ? '❚❚ pause' : '▶ play'}
          </button>
          <button type="button" className="secondary" onClick={() => setPos((p) => Math.min(frames.length, p + 1))} disabled={pos >= frames.length} aria-label="step forward">
            step ▶
          </button>
          <select aria-label="speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s} samples/s
              </option>
            ))}
          </select>
          <input
            type="range"
            aria-label="timeline"
            data-testid="replay-scrubber"
            min={1}
            max={frames.length}
            value={pos}
            onChange={(e) => {
              setPlaying(false);
              setPos(Number(e.target.value));
            }}
          />
          <span className="mono" data-testid="replay-position">
            {pos} / {frames.length}
          </span>
        </div>
      </Card>
      <SamplePanel model={model} frame={frame} />
      <div className="stats">
        <Stat label="Accuracy up to here" value={fmtPct(at.accuracy)} testId="replay-cum-accuracy" />
        <Stat label="Local exit rate up to here" value={fmtPct(at.localExitRate)} />
        <Stat label="Bytes up to here" value={fmtBytes(at.bytesTotal)} sub={`${fmtBytes(at.bytesPerSample)} per sample`} />
      </div>
      <div className="grid cols-2">
        <Card title="Accuracy and local exit rate (cumulative)">
          <CumulativeRates data={upTo} cursor={frames.length} />
        </Card>
        <Card title="Bytes transferred (cumulative)">
          <CumulativeBytes data={upTo} cursor={frames.length} />
        </Card>
      </div>
    </>
  );
}

function SessionReplay({ id }: { id: string }) {
  const [loaded, setLoaded] = useState(0);
  const data = useAsync(async () => {
    const [session, events] = await Promise.all([api.session(id), allSessionEvents(id, setLoaded)]);
    return { session, events };
  }, [id]);
  if (data.error) return <ErrorNote error={data.error} what={`the log of session ${id}`} onRetry={data.reload} />;
  if (!data.data) return <Loading what={`the session's events (${loaded} so far)`} />;
  const { session, events } = data.data;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            Replay of <Link href={`/session?id=${id}`} className="mono">{shortId(id)}</Link> <StatusBadge status={session.status} />
          </h1>
          <p>
            {session.dataset}/{session.split} · {livePolicyLabel(session.policy)} · {session.mode} · {events.length} events · started {fmtTime(session.startedAt)}
          </p>
        </div>
        <button type="button" className="secondary" onClick={data.reload}>
          Reload log
        </button>
      </div>
      <Player session={{ id, kind: 'session', status: session.status }} events={events} />
    </>
  );
}

/** A window [from, to) of a stream, replayed with the stream's start (its first event) so samples read as a session's. */
function StreamReplay({ id, from, to }: { id: string; from: string | null; to: string | null }) {
  const window = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
  const data = useAsync(async () => {
    const [stream, head, win] = await Promise.all([api.stream(id), api.streamEvents(id, null, {}, 1), streamWindowEvents(id, window)]);
    const first = head.events[0];
    const start = first?.type === 'StreamStarted' ? [{ ...first, type: 'SessionStarted', data: sessionStartOfStream(first.data) } as StoredEvent] : [];
    return { stream, events: [...start, ...win.events.filter((e) => e.type !== 'StreamStarted')], truncated: win.truncated };
  }, [id, from, to]);
  if (data.error) return <ErrorNote error={data.error} what={`the log of stream ${id}`} onRetry={data.reload} />;
  if (!data.data) return <Loading what="the stream's events in the window" />;
  const { stream, events, truncated } = data.data;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            Replay of stream <Link href={`/stream?id=${id}`} className="mono">{stream.name || shortId(id)}</Link> <StatusBadge status={stream.status} />
          </h1>
          <p data-testid="replay-window">
            {from ? fmtTime(from) : 'its start'} → {to ? fmtTime(to) : 'now'} · {livePolicyLabel(stream.policy)} · {stream.mode} · {events.length} events
            {truncated ? ' (the first part of the window only: pick a shorter one)' : ''}
          </p>
        </div>
      </div>
      <Player session={{ id, kind: 'stream', status: stream.status }} events={events} />
    </>
  );
}

function Picker() {
  const list = useAsync(() => api.sessions({ limit: 20 }), []);
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Replay</h1>
          <p>Play a session back from its event log, sample by sample.</p>
        </div>
      </div>
      <Card title="Pick a session">
        {list.error && <ErrorNote error={list.error} what="sessions" onRetry={list.reload} />}
        {!list.data && list.loading && <Loading what="sessions" />}
        {list.data && list.data.items.length === 0 && <Empty title="No sessions recorded yet.">Start one on the sessions page; its log can be replayed here.</Empty>}
        {list.data && list.data.items.length > 0 && (
          <table>
            <tbody>
              {list.data.items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link href={`/replay?session=${s.id}`} className="mono">
                      {shortId(s.id)}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge status={s.status} />
                  </td>
                  <td>
                    {s.dataset}/{s.split}
                  </td>
                  <td>{livePolicyLabel(s.policy)}</td>
                  <td className="num">{s.samplesDone} samples</td>
                  <td>{fmtTime(s.startedAt ?? s.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function Inner() {
  const params = useSearchParams();
  const id = params.get('session');
  const stream = params.get('stream');
  if (stream) return <StreamReplay key={stream} id={stream} from={params.get('from')} to={params.get('to')} />;
  return id ? <SessionReplay key={id} id={id} /> : <Picker />;
}

export default function ReplayPage() {
  return (
    <Suspense fallback={<Loading what="the replay" />}>
      <Inner />
    </Suspense>
  );
}
