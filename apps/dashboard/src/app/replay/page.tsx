'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useState } from 'react';
import { sessionStartOfStream, type StoredEvent } from '@ddnn/contracts';
import { Player } from '../../components/replay/player';
import { Card, Empty, ErrorNote, Loading, StatusBadge } from '../../components/ui';
import { allSessionEvents, api, streamWindowEvents } from '../../lib/api';
import { fmtTime, shortId } from '../../lib/format';
import { livePolicyLabel } from '../../lib/policy';
import { buildReplay, type ReplayModel } from '../../lib/replay';
import { useAsync } from '../../lib/use-async';

/**
 * What the replay read, in its header: the events (every one of the log, the run's start and end too, which the
 * session page's per-sample count leaves out) and the samples that had no answer (SampleUnanswered).
 */
function LogCounts({ events, where, model }: { events: number; where: string; model: ReplayModel }) {
  const n = model.unanswered;
  return (
    <>
      <span data-testid="replay-events">
        {events} events {where}
      </span>
      {n > 0 && (
        <span data-testid="replay-unanswered">
          {' '}
          · {n === 1 ? '1 sample' : `${n} samples`} had no answer (nothing reached an exit that could answer {n === 1 ? 'it' : 'them'})
        </span>
      )}
    </>
  );
}

function SessionReplay({ id }: { id: string }) {
  const [loaded, setLoaded] = useState(0);
  const data = useAsync(async () => {
    const [session, events] = await Promise.all([api.session(id), allSessionEvents(id, setLoaded)]);
    return { session, events: events.length, model: buildReplay(events) };
  }, [id]);
  if (data.error) return <ErrorNote error={data.error} what={`the log of session ${id}`} onRetry={data.reload} />;
  if (!data.data) return <Loading what={`the session's events (${loaded} so far)`} />;
  const { session, events, model } = data.data;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            Replay of <Link href={`/session?id=${id}`} className="mono">{shortId(id)}</Link> <StatusBadge status={session.status} />
          </h1>
          <p>
            {session.dataset}/{session.split} · {livePolicyLabel(session.policy)} · {session.mode} · <LogCounts events={events} where="in its log" model={model} /> · started{' '}
            {fmtTime(session.startedAt)}
          </p>
        </div>
        <button type="button" className="secondary" onClick={data.reload}>
          Reload log
        </button>
      </div>
      <Player session={{ id, kind: 'session', status: session.status }} model={model} />
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
    const events = [...start, ...win.events.filter((e) => e.type !== 'StreamStarted')];
    // The count is the window's: the start read from the head is not in it unless the window begins there.
    return { stream, events: win.events.length, model: buildReplay(events), truncated: win.truncated };
  }, [id, from, to]);
  if (data.error) return <ErrorNote error={data.error} what={`the log of stream ${id}`} onRetry={data.reload} />;
  if (!data.data) return <Loading what="the stream's events in the window" />;
  const { stream, events, model, truncated } = data.data;
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>
            Replay of stream <Link href={`/stream?id=${id}`} className="mono">{stream.name || shortId(id)}</Link> <StatusBadge status={stream.status} />
          </h1>
          <p data-testid="replay-window">
            {from ? fmtTime(from) : 'its start'} → {to ? fmtTime(to) : 'now'} · {livePolicyLabel(stream.policy)} · {stream.mode} · <LogCounts events={events} where="in the window" model={model} />
            {truncated ? ' (the first part of the window only: pick a shorter one)' : ''}
            {to ? ' · labels posted after its end are not in' : ''}
          </p>
        </div>
      </div>
      <Player session={{ id, kind: 'stream', status: stream.status }} model={model} />
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
