'use client';
import { useSearchParams } from 'next/navigation';
import { useEffect, useMemo } from 'react';
import { CumulativeBytes, CumulativeRates } from '../charts';
import { Card, Empty, Stat } from '../ui';
import { fmtBytes, fmtPct } from '../../lib/format';
import { clampPosition, type ReplayModel } from '../../lib/replay';
import { SamplePanel } from './sample-panel';
import { type Playback, usePlayback } from './use-playback';

const SPEEDS = [1, 2, 5, 10, 25, 50];

/** First, step, play/pause, speed and the timeline of a replay. */
function PlayerControls({ playback, count }: { playback: Playback; count: number }) {
  const { pos, setPos, playing, setPlaying, speed, setSpeed } = playback;
  return (
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
        <button type="button" className="secondary" onClick={() => setPos((p) => Math.min(count, p + 1))} disabled={pos >= count} aria-label="step forward">
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
          max={count}
          value={pos}
          onChange={(e) => {
            setPlaying(false);
            setPos(Number(e.target.value));
          }}
        />
        <span className="mono" data-testid="replay-position">
          {pos} / {count}
        </span>
      </div>
    </Card>
  );
}

/** What the player needs of the run it replays: a session, or a window of a stream. */
interface ReplayRun {
  id: string;
  kind: 'session' | 'stream';
  status: string;
}

/** Plays a replay the page built (buildReplay) from the log it read: its header says what the log holds too. */
export function Player({ session, model }: { session: ReplayRun; model: ReplayModel }) {
  const params = useSearchParams();
  const frames = model.frames;
  const initial = useMemo(() => {
    const sample = params.get('sample');
    if (sample !== null) {
      const i = frames.findIndex((f) => f.sampleIndex === Number(sample));
      if (i >= 0) return i + 1;
    }
    return clampPosition(Number(params.get('t') ?? 1), frames.length);
  }, [params, frames]);
  const playback = usePlayback(frames.length, initial);
  const { pos } = playback;
  useEffect(() => {
    const url = new URL(window.location.href);
    url.searchParams.set(session.kind, session.id);
    url.searchParams.set('t', String(pos));
    url.searchParams.delete('sample');
    window.history.replaceState(window.history.state, '', url.pathname + url.search);
  }, [pos, session.id]);
  if (!model.started) return <Empty title="This session's log has no SessionStarted event yet.">It may still be queued.</Empty>;
  if (frames.length === 0) return <Empty title="No sample was decided in this session yet.">{session.status === 'running' ? 'Reload in a moment.' : ''}</Empty>;
  const frame = frames[pos - 1];
  const upTo = model.cumulative.slice(0, pos);
  const at = upTo[upTo.length - 1];
  return (
    <>
      <PlayerControls playback={playback} count={frames.length} />
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

