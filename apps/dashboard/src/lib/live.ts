'use client';
import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import {
  LIVE_NAMESPACE,
  LiveEvents,
  type LiveEventMessage,
  type LiveProgressMessage,
  type LiveSubscribe,
  type LiveSubscribeAck,
  type RunKind,
  type SessionEventsPage,
  type StoredEvent,
} from '@ddnn/contracts';
import { api } from './api';
import { getToken } from './auth';

/** What /live sends and takes, typed so the messages the hook emits are the contract's (LiveSubscribe). */
interface LiveServerEvents {
  [LiveEvents.event]: (m: LiveEventMessage) => void;
  [LiveEvents.progress]: (m: LiveProgressMessage) => void;
}
interface LiveClientEvents {
  [LiveEvents.subscribe]: (m: LiveSubscribe, ack: (a: LiveSubscribeAck) => void) => void;
  [LiveEvents.unsubscribe]: (m: LiveSubscribe) => void;
}

/** live: subscribed and hearing from the server; stale: the socket is down or silent too long. */
export type LiveState = 'connecting' | 'live' | 'stale' | 'off';

export interface LiveFeed {
  state: LiveState;
  /** Why the feed is stale, for the indicator's tooltip. */
  detail: string;
  lastMessageAt: number | null;
}

/** Whether checkpoint `a` is after `b` in log order (`<xid>:<position>`; null = before the first event). */
export function checkpointAfter(a: string | null, b: string | null): boolean {
  if (!a) return false;
  if (!b) return true;
  const [ax, ap] = a.split(':').map(BigInt);
  const [bx, bp] = b.split(':').map(BigInt);
  return ax > bx || (ax === bx && ap > bp);
}

/** The later of two `<xid>:<position>` checkpoints (null = before the first event). */
export function laterCheckpoint(a: string | null, b: string | null): string | null {
  return checkpointAfter(b, a) ? b : a;
}

/** Silence (no progress message) after which a running run's feed counts as stale. */
export const STALE_AFTER_MS = 10_000;

/** A run the feed follows: a session, or a stream (whose catch-up reads start at `from`, its window's start). */
export interface LiveRun {
  kind: RunKind;
  id: string;
  /** Streams: catch up only on events logged from this instant (ISO), never the whole of a weeks-long log. */
  from?: string;
}

/** The REST read a catch-up goes through: the run's log after a checkpoint. */
function readAfter(run: LiveRun, after: string | null): Promise<SessionEventsPage> {
  return run.kind === 'stream' ? api.streamEvents(run.id, after, run.from ? { from: run.from } : {}, 1000) : api.sessionEvents(run.id, after, 1000);
}

/**
 * Follows a session or a stream over /live. The log is the truth: after every (re)subscribe the hook reads
 * GET /api/{sessions,streams}/:id/events?after=<last checkpoint> until caught up, so a dropped message loses nothing.
 */
export function useLiveRun(
  run: LiveRun | null,
  handlers: { onEvents: (events: StoredEvent[]) => void; onProgress?: (p: LiveProgressMessage) => void },
  opts: { enabled: boolean; initialCheckpoint?: string | null },
): LiveFeed {
  const [feed, setFeed] = useState<LiveFeed>({ state: 'off', detail: '', lastMessageAt: null });
  const h = useRef(handlers);
  h.current = handlers;
  const checkpoint = useRef<string | null>(opts.initialCheckpoint ?? null);

  const kind = run?.kind ?? 'session';
  const sessionId = run?.id ?? null;
  const from = run?.from;
  useEffect(() => {
    if (!sessionId || !opts.enabled) {
      setFeed((f) => ({ ...f, state: 'off', detail: '' }));
      return;
    }
    checkpoint.current = laterCheckpoint(checkpoint.current, opts.initialCheckpoint ?? null);
    let closed = false;
    let catchingUp: Promise<void> | null = null;
    const seen = new Set<string>();
    const held: LiveEventMessage[] = [];
    const deliver = (events: StoredEvent[]) => {
      const fresh = events.filter((e) => !seen.has(e.eventId));
      fresh.forEach((e) => seen.add(e.eventId));
      if (fresh.length) h.current.onEvents(fresh);
    };
    const catchUp = (): Promise<void> =>
      (catchingUp ??= (async () => {
        try {
          for (;;) {
            const page = await readAfter({ kind, id: sessionId, from }, checkpoint.current);
            if (closed) return;
            deliver(page.events);
            if (page.checkpoint) checkpoint.current = page.checkpoint;
            if (!page.hasMore || page.events.length === 0) return;
          }
        } finally {
          catchingUp = null;
          const late = held.splice(0);
          if (late.length && !closed) {
            deliver(late.map((m) => m.event));
            checkpoint.current = laterCheckpoint(checkpoint.current, late[late.length - 1].checkpoint);
          }
        }
      })());

    const subscription: LiveSubscribe = { sessionId, kind };
    const socket: Socket<LiveServerEvents, LiveClientEvents> = io(LIVE_NAMESPACE, {
      auth: { token: getToken() },
      transports: ['websocket', 'polling'],
      reconnectionDelayMax: 5000,
    });
    const heard = () => setFeed({ state: 'live', detail: '', lastMessageAt: Date.now() });
    socket.on('connect', () => {
      socket.emit(LiveEvents.subscribe, subscription, (ack) => {
        if (closed) return;
        if (!ack.ok) {
          setFeed((f) => ({ ...f, state: 'stale', detail: `subscribe refused: ${ack.error}` }));
          return;
        }
        heard();
        void catchUp().catch((e: unknown) => setFeed((f) => ({ ...f, state: 'stale', detail: `catch-up failed: ${String(e)}` })));
      });
    });
    socket.on('disconnect', (reason) => setFeed((f) => ({ ...f, state: 'stale', detail: `disconnected (${reason}); reconnecting` })));
    socket.on('connect_error', (e) => setFeed((f) => ({ ...f, state: 'stale', detail: `cannot connect: ${e.message}` })));
    socket.on(LiveEvents.event, (m) => {
      if (m.sessionId !== sessionId || m.kind !== kind) return;
      heard();
      // While a catch-up runs, hold messages back and deliver them after it (duplicates are dropped by id).
      if (catchingUp) {
        held.push(m);
        return;
      }
      checkpoint.current = laterCheckpoint(checkpoint.current, m.checkpoint);
      deliver([m.event]);
    });
    socket.on(LiveEvents.progress, (m) => {
      if (m.sessionId !== sessionId || m.kind !== kind) return;
      heard();
      h.current.onProgress?.(m);
    });
    setFeed({ state: 'connecting', detail: 'connecting to /live', lastMessageAt: null });
    const watchdog = setInterval(() => {
      setFeed((f) =>
        f.state === 'live' && f.lastMessageAt && Date.now() - f.lastMessageAt > STALE_AFTER_MS
          ? { ...f, state: 'stale', detail: `no message for ${Math.round((Date.now() - f.lastMessageAt) / 1000)} s` }
          : f,
      );
    }, 1000);
    return () => {
      closed = true;
      clearInterval(watchdog);
      socket.emit(LiveEvents.unsubscribe, subscription);
      socket.close();
    };
    // `from` is read when a catch-up starts; a new window re-reads and re-subscribes through `enabled`.
  }, [kind, sessionId, opts.enabled]);

  return feed;
}
