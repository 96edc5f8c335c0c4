'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useMemo, useState } from 'react';
import { bytesByLink, type StreamView } from '@ddnn/contracts';
import { ExitsChart, LinkBytesChart } from '../../components/charts';
import { WindowCompare } from '../../components/window-compare';
import { Card, Empty, ErrorNote, Loading, Stat, StatusBadge } from '../../components/ui';
import { api, STREAM_WINDOW_EVENT_CAP, streamWindowEvents } from '../../lib/api';
import { DeviceName, deviceLabel, useDeviceNames } from '../../lib/device-names';
import { fmtBytes, fmtPct, fmtTime } from '../../lib/format';
import { livePolicyLabel, localExitRate } from '../../lib/policy';
import { buildReplay } from '../../lib/replay';
import { sampleBounds, WINDOW_PRESETS, type WindowKey, windowBounds, windowSummary } from '../../lib/stream-window';
import { useAsync } from '../../lib/use-async';

const FINISHED = new Set(['completed', 'stopped', 'failed']);
const REFRESH_MS = 3000;

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

function StreamDetail({ id }: { id: string }) {
  const [win, setWin] = useState<WindowKey>('5m');
  const [custom, setCustom] = useState(() => ({ from: localInput(Date.now() - 3_600_000), to: localInput(Date.now()) }));
  const [stopping, setStopping] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const stream = useAsync(() => api.stream(id), [id], REFRESH_MS);
  const running = !!stream.data && !FINISHED.has(stream.data.status);
  const bounds = windowBounds(win, custom);
  // A preset window slides with the clock while the stream runs; a custom one is fixed.
  const windowed = useAsync(
    () => (bounds ? streamWindowEvents(id, bounds) : Promise.resolve(null)),
    [id, win, custom.from, custom.to],
    running && win !== 'custom' ? REFRESH_MS : undefined,
  );
  const view: StreamView | undefined = stream.data;
  const names = useDeviceNames(view ? view.topology.devices.map((d) => d.deviceId) : [], view?.configuration ?? undefined);
  const events = windowed.data?.events;
  const s = useMemo(() => (events ? windowSummary(id, events) : null), [id, events]);
  const frames = useMemo(() => (events ? buildReplay(events).frames : []), [events]);
  const samples = events ? sampleBounds(events) : null;

  if (stream.error && !view) return <ErrorNote error={stream.error} what={`stream ${id}`} onRetry={stream.reload} />;
  if (!view) return <Loading what="the stream" />;
  const all = view.summary;
  const stop = async () => {
    setStopping({ busy: true });
    try {
      await api.stopStream(id);
      stream.reload();
      setStopping({ busy: false });
    } catch (e) {
      setStopping({ busy: false, error: e instanceof Error ? e : new Error(String(e)) });
    }
  };
  const windowQuery = bounds ? `&from=${encodeURIComponent(bounds.from)}${bounds.to ? `&to=${encodeURIComponent(bounds.to)}` : ''}` : '';
  const pending = s ? Math.max(0, s.samplesDecided - s.labelled) : null;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            {view.name ? <span data-testid="stream-name">{view.name}</span> : <>Stream <span className="mono">{id.slice(0, 8)}</span></>} <StatusBadge status={view.status} />
          </h1>
          <p>
            model {view.modelId} · {livePolicyLabel(view.policy)} · {view.rate} samples/s · deadline {view.deadlineMs} ms · {view.topology.devices.length} devices · started{' '}
            {fmtTime(view.startedAt)}
          </p>
        </div>
        {running && (
          <button type="button" className="danger" onClick={stop} disabled={stopping.busy}>
            {stopping.busy ? 'Stopping…' : 'Stop'}
          </button>
        )}
      </div>
      {stopping.error && <ErrorNote error={stopping.error} action="stop" what="the stream" />}
      {view.error && <div className="note error">The stream failed: {view.error}</div>}
      <Card title="Time window">
        <WindowPicker value={win} custom={custom} onChange={setWin} onCustom={setCustom} />
        {!bounds && <p className="note error">The custom window needs a start before its end.</p>}
        <p className="muted" data-testid="window-text" style={{ marginBottom: 0 }}>
          {bounds ? `${fmtTime(bounds.from)} → ${bounds.to ? fmtTime(bounds.to) : 'now'}` : ''}
          {s ? ` · ${s.samplesDecided} samples decided in this window` : ''}
          {/* The stored fold can lag the window's by a moment: the whole stream has at least the window's samples. */}
          {all ? ` · ${Math.max(all.samplesDecided, s?.samplesDecided ?? 0)} since the stream started` : ''}
          {windowed.data?.truncated ? ` · only the first ${STREAM_WINDOW_EVENT_CAP} events of the window are shown: pick a shorter one` : ''}
        </p>
        {windowed.error && <ErrorNote error={windowed.error} what="the window's events" onRetry={windowed.reload} />}
      </Card>
      <div className="stats">
        <Stat label="Samples in window" testId="stat-samples" value={s ? s.samplesDecided : '–'} sub={s ? `${s.samplesStarted} triggered` : undefined} />
        <Stat label="Accuracy on labelled" testId="stat-accuracy" value={fmtPct(s?.accuracy)} sub={s ? `${s.correct} / ${s.labelled} labelled · ${pending} awaiting a label` : undefined} />
        <Stat label="Local exit rate" value={fmtPct(localExitRate(s ?? undefined))} sub={s ? `${s.exits.local.exited} of ${s.samplesDecided}` : undefined} />
        <Stat label="Bytes per sample" testId="stat-bytes" value={fmtBytes(s?.bytes.perSample)} sub={s ? `${fmtBytes(s.bytes.total)} in the window` : undefined} />
        <Stat label="Missed device replies" testId="stat-missed" value={s ? s.missed : '–'} />
      </div>
      {!s || s.samplesDecided === 0 ? (
        <Empty title={windowed.loading && !s ? 'Reading the window…' : running ? 'No sample decided in this window yet…' : 'No sample was decided in this window.'} />
      ) : (
        <div className="grid cols-2">
          <Card title="Exits per tier">
            <ExitsChart summary={s} />
          </Card>
          <Card title="Bytes per link">
            <LinkBytesChart bytesByLink={bytesByLink(s)} label={(n) => (names.has(n) ? deviceLabel(n, names) : undefined)} />
          </Card>
          <Card title="Devices">
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Device</th>
                    <th className="num">Answered</th>
                    <th className="num">Missed</th>
                    <th className="num">Miss rate</th>
                    <th className="num">Mean latency</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(s.devices).map(([d, t]) => (
                    <tr key={d}>
                      <td>
                        <DeviceName id={d} names={names} />
                      </td>
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
          <Card title="Samples in the window (newest first)">
            <div className="table-wrap" style={{ maxHeight: 320, overflowY: 'auto' }}>
              <table data-testid="window-samples">
                <thead>
                  <tr>
                    <th className="num">Sample</th>
                    <th>Exit</th>
                    <th className="num">η</th>
                    <th>Prediction</th>
                  </tr>
                </thead>
                <tbody>
                  {frames
                    .slice(-50)
                    .reverse()
                    .map((f) => (
                      <tr key={f.sampleIndex}>
                        <td className="num">
                          <Link href={`/replay?stream=${id}&sample=${f.sampleIndex}${windowQuery}`}>{f.sampleIndex}</Link>
                        </td>
                        <td>{f.exit && <span className={`badge tier-${f.exit.tier}`}>{f.exit.tier}</span>}</td>
                        <td className="num">{f.exit ? f.exit.eta.toFixed(3) : '–'}</td>
                        <td>{f.exit ? `class ${f.exit.prediction}` : '–'}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </Card>
        </div>
      )}
      <WindowCompare runId={id} window={samples} />
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
