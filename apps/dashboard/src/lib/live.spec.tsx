import { act, render } from '@testing-library/react';
import type { StoredEvent } from '@ddnn/contracts';
import { useLiveRun } from './live';

// A fake socket.io client: the test plays the server (connect, ack, messages, disconnect).
type Handler = (...args: unknown[]) => void;
const sockets: FakeSocket[] = [];
class FakeSocket {
  handlers = new Map<string, Handler[]>();
  emitted: { event: string; body: unknown; ack?: Handler }[] = [];
  constructor(
    readonly ns: string,
    readonly opts: { auth: { token: string | null } },
  ) {
    sockets.push(this);
  }
  on(event: string, h: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), h]);
    return this;
  }
  emit(event: string, body: unknown, ack?: Handler) {
    this.emitted.push({ event, body, ack });
    return this;
  }
  closed = false;
  close() {
    this.closed = true;
  }
  fire(event: string, ...args: unknown[]) {
    (this.handlers.get(event) ?? []).forEach((h) => h(...args));
  }
}
jest.mock('socket.io-client', () => ({ io: (ns: string, opts: { auth: { token: string | null } }) => new FakeSocket(ns, opts) }));

const SID = '11111111-1111-1111-1111-111111111111';
const ev = (n: number): StoredEvent =>
  ({
    type: 'SampleStarted',
    data: { sessionId: SID, sampleIndex: n, sampleId: `s${n}`, label: 0 },
    eventId: `e${n}`,
    streamId: `session-${SID}`,
    streamPosition: n,
    globalPosition: String(n),
    checkpoint: `7:${n}`,
    schemaVersion: 1,
    metadata: {},
    createdAt: '2026-01-01T00:00:00Z',
  }) as StoredEvent;

// The REST log: GET /api/sessions/:id/events?after=&limit= over events 1..N.
let log: StoredEvent[] = [];
const calls: string[] = [];
beforeEach(() => {
  sockets.length = 0;
  calls.length = 0;
  log = [1, 2, 3].map(ev);
  window.localStorage.setItem('ddnn.operatorToken', 'tok');
  global.fetch = jest.fn(async (url: string) => {
    calls.push(url);
    const u = new URL(url, 'http://x');
    const after = u.searchParams.get('after');
    const from = after ? Number(after.split(':')[1]) : 0;
    const events = log.filter((e) => Number(e.globalPosition) > from);
    const body = { events, checkpoint: events.length ? events[events.length - 1].checkpoint : after, hasMore: false };
    return { ok: true, status: 200, json: async () => body, text: async () => JSON.stringify(body) } as Response;
  }) as unknown as typeof fetch;
});

function Probe({ onEvents, state }: { onEvents: (e: StoredEvent[]) => void; state: (s: string) => void }) {
  const feed = useLiveRun({ kind: 'session', id: SID }, { onEvents }, { enabled: true, initialCheckpoint: '7:1' });
  state(feed.state);
  return null;
}

const flush = () => act(async () => new Promise((r) => setTimeout(r, 0)));

describe('useLiveRun', () => {
  it('sends the token, catches up from the initial checkpoint, then from the last one after a reconnect, losing and repeating nothing', async () => {
    const seen: string[] = [];
    let state = '';
    render(<Probe onEvents={(es) => seen.push(...es.map((e) => e.eventId))} state={(s) => (state = s)} />);
    const socket = sockets[0];
    expect(socket.opts.auth.token).toBe('tok');

    await act(async () => socket.fire('connect'));
    const sub = socket.emitted.find((e) => e.event === 'subscribe')!;
    expect(sub.body).toEqual({ sessionId: SID, kind: 'session' });
    await act(async () => sub.ack!({ ok: true, sessionId: SID, status: 'running', checkpoint: '7:3' }));
    await flush();
    expect(calls[0]).toContain('after=7%3A1');
    expect(seen).toEqual(['e2', 'e3']);
    expect(state).toBe('live');

    // A live message, then the connection drops; events 5 and 6 are logged while the client is away.
    log.push(ev(4));
    await act(async () => socket.fire('session-event', { sessionId: SID, kind: 'session', checkpoint: '7:4', event: ev(4) }));
    expect(seen).toEqual(['e2', 'e3', 'e4']);
    await act(async () => socket.fire('disconnect', 'transport close'));
    expect(state).toBe('stale');
    log.push(ev(5), ev(6));

    await act(async () => socket.fire('connect'));
    const resub = socket.emitted.filter((e) => e.event === 'subscribe')[1];
    await act(async () => resub.ack!({ ok: true, sessionId: SID, status: 'running', checkpoint: '7:6' }));
    await flush();
    expect(calls[calls.length - 1]).toContain('after=7%3A4');
    expect(seen).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
    expect(state).toBe('live');

    // A duplicate delivery (socket message for an event the catch-up already gave) is dropped.
    await act(async () => socket.fire('session-event', { sessionId: SID, kind: 'session', checkpoint: '7:6', event: ev(6) }));
    expect(seen).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
  });

  it('follows a stream: subscribes with its kind, catches up over the stream window read, and ignores a session message with the same id', async () => {
    const seen: string[] = [];
    const FROM = '2026-12-05T17:00:00.000Z';
    function StreamProbe() {
      useLiveRun({ kind: 'stream', id: SID, from: FROM }, { onEvents: (es) => seen.push(...es.map((e) => e.eventId)) }, { enabled: true, initialCheckpoint: '7:2' });
      return null;
    }
    render(<StreamProbe />);
    const socket = sockets[0];
    await act(async () => socket.fire('connect'));
    const sub = socket.emitted.find((e) => e.event === 'subscribe')!;
    expect(sub.body).toEqual({ sessionId: SID, kind: 'stream' });
    await act(async () => sub.ack!({ ok: true, sessionId: SID, kind: 'stream', status: 'running', checkpoint: '7:3' }));
    await flush();
    expect(calls[0]).toMatch(new RegExp(`^/api/streams/${SID}/events\\?`));
    expect(new URL(calls[0], 'http://x').searchParams.get('from')).toBe(FROM);
    expect(new URL(calls[0], 'http://x').searchParams.get('after')).toBe('7:2');
    expect(seen).toEqual(['e3']);
    await act(async () => socket.fire('session-event', { sessionId: SID, kind: 'session', checkpoint: '7:4', event: ev(4) }));
    expect(seen).toEqual(['e3']);
    await act(async () => socket.fire('session-event', { sessionId: SID, kind: 'stream', checkpoint: '7:5', event: ev(5) }));
    expect(seen).toEqual(['e3', 'e5']);
  });

  it('turns stale when the server refuses the subscription', async () => {
    let state = '';
    render(<Probe onEvents={() => undefined} state={(s) => (state = s)} />);
    await act(async () => sockets[0].fire('connect'));
    await act(async () => sockets[0].emitted[0].ack!({ ok: false, error: 'no session' }));
    expect(state).toBe('stale');
  });
});
