import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { isUUID } from 'class-validator';
import type { Namespace, Socket } from 'socket.io';
import {
  foldSessionSummary,
  LIVE_NAMESPACE,
  LiveEvents,
  type LiveEventMessage,
  type LiveProgressMessage,
  type LiveSubscribeAck,
  type RunKind,
  type SessionSummary,
  type StoredEvent,
  streamIds,
} from '@ddnn/contracts';
import { compareCheckpoints, subscribe, type Subscription } from '@ddnn/events';
import { CredentialsService } from '../auth/credentials.service';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionStore } from '../orchestrator/session-store';
import { StreamEventLog } from '../orchestrator/stream-event-log';

/** The log stream prefix of each kind of run. */
const LOG_PREFIX: Record<RunKind, string> = { session: streamIds.session(''), stream: streamIds.stream('') };
const KINDS = Object.keys(LOG_PREFIX) as RunKind[];
/** A run's room, and its key in `watched`: the kind keeps a session and a stream apart. */
const room = (kind: RunKind, runId: string) => `${kind}:${runId}`;
const TICK_MS = 250;
/** A quiet run (queued, or between slow samples) still gets a progress message this often. */
const HEARTBEAT_TICKS = 12;

/**
 * /live: events and progress of sessions and streams for the dashboard. Every node follows the log through one
 * subscription of the event store (LISTEN/NOTIFY, re-opened after a database restart, polling as a fallback) and
 * notifies the clients subscribed to it, so messages carry log checkpoints and a reconnecting client catches up
 * over GET /api/sessions/:id/events?after=<checkpoint> (a stream's: /api/streams/:id/events). Progress is the run's
 * summary fold (the one the REST API and the projection use), started from the log and advanced by the events the
 * feed delivers.
 */
@WebSocketGateway({ namespace: LIVE_NAMESPACE, cors: { origin: true } })
export class LiveGateway implements OnGatewayInit, OnApplicationShutdown {
  private readonly logger = new Logger(LiveGateway.name);
  @WebSocketServer() private readonly server!: Namespace;
  private subscription: Promise<Subscription> | null = null;
  /** Watched runs, by room: their summary folded up to the newest event delivered, and whether it changed. */
  private readonly watched = new Map<string, { kind: RunKind; runId: string; summary: SessionSummary; dirty: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(
    private readonly log: SessionEventLog,
    private readonly streamLog: StreamEventLog,
    private readonly store: SessionStore,
    private readonly credentials: CredentialsService,
  ) {}

  /** The feed is for operators: the handshake carries the operator token (`auth: {token}`). */
  afterInit(ns: Namespace): void {
    ns.use((socket, next) => {
      const token = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
      if (typeof token !== 'string' || !token) return next(new Error('the /live handshake needs auth.token (the operator token)'));
      this.credentials.identify(token).then(
        (who) => (who.kind === 'operator' ? next() : next(new Error('only the operator token may follow runs'))),
        (e: unknown) => next(new Error(`cannot check the token: ${(e as Error).message}`)),
      );
    });
  }

  @SubscribeMessage(LiveEvents.subscribe)
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<LiveSubscribeAck> {
    const target = runOf(body);
    if (typeof target === 'string') return { ok: false, error: target };
    const { kind, runId } = target;
    try {
      const run = await this.store.record(runId);
      if (!run || run.kind !== kind) return { ok: false, error: `no ${kind} ${runId}` };
      await this.follow();
      const key = room(kind, runId);
      await socket.join(key);
      if (!this.watched.has(key)) {
        const summary = await (kind === 'stream' ? this.streamLog : this.log).summary(runId);
        // Another watcher's state, folded by the feed meanwhile, is at least as new: keep it.
        if (!this.watched.has(key)) this.watched.set(key, { kind, runId, summary, dirty: true });
      }
      return { ok: true, sessionId: runId, kind, status: run.status, checkpoint: await this.log.store.headCheckpoint() };
    } catch (e) {
      return { ok: false, error: `cannot follow ${kind} ${runId} now: ${e instanceof Error ? e.message : e}` };
    }
  }

  @SubscribeMessage(LiveEvents.unsubscribe)
  async unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<{ ok: boolean }> {
    const target = runOf(body);
    if (typeof target === 'string') return { ok: false };
    await socket.leave(room(target.kind, target.runId));
    return { ok: true };
  }

  /** Starts the node's subscription to the log (from its head) on the first watcher. */
  private follow(): Promise<Subscription> {
    this.subscription ??= (async () => {
      const sub = await subscribe(this.log.store, {
        after: await this.log.store.headCheckpoint(),
        handle: async (events) => this.forward(events),
        pollIntervalMs: 1000,
        onError: (e) => this.logger.warn(`live feed: ${e instanceof Error ? e.message : e}`),
      });
      this.timer = setInterval(() => void this.tick(), TICK_MS);
      return sub;
    })().catch((e: unknown) => {
      this.subscription = null;
      throw e;
    });
    return this.subscription;
  }

  private forward(events: StoredEvent[]): void {
    for (const event of events) {
      const kind = KINDS.find((k) => event.streamId.startsWith(LOG_PREFIX[k]));
      if (!kind) continue;
      const runId = event.streamId.slice(LOG_PREFIX[kind].length);
      const key = room(kind, runId);
      const state = this.watched.get(key);
      if (state && (state.summary.checkpoint === null || compareCheckpoints(event.checkpoint, state.summary.checkpoint) > 0)) {
        state.summary = foldSessionSummary(state.summary, event);
        state.dirty = true;
      }
      if (!this.server.adapter.rooms.get(key)?.size) continue;
      const msg: LiveEventMessage = { sessionId: runId, kind, checkpoint: event.checkpoint, event };
      this.toWatchers(key).emit(LiveEvents.event, msg);
    }
  }

  /**
   * This node's watchers of a run only: every node follows the log itself, so a broadcast through the Redis
   * adapter (REDIS_URL) would reach another node's watchers once from each node.
   */
  private toWatchers(key: string) {
    return this.server.local.to(key);
  }

  /** One timer: progress of the runs that changed, of every watched one now and then; forgets unwatched ones. */
  private async tick(): Promise<void> {
    const heartbeat = ++this.ticks % HEARTBEAT_TICKS === 0;
    for (const [key, state] of this.watched) {
      if (!this.server.adapter.rooms.get(key)?.size) {
        this.watched.delete(key);
        continue;
      }
      if (!state.dirty && !heartbeat) continue;
      state.dirty = false;
      try {
        const run = await this.store.record(state.runId);
        if (!run) continue;
        const { summary } = state;
        const msg: LiveProgressMessage = {
          sessionId: state.runId,
          kind: state.kind,
          status: run.status,
          samplesDone: summary.samplesStarted,
          sampleCount: run.kind === 'session' ? run.sampleCount : null,
          samplesDecided: summary.samplesDecided,
          labelled: summary.labelled,
          accuracy: summary.accuracy,
          checkpoint: summary.checkpoint,
        };
        this.toWatchers(key).emit(LiveEvents.progress, msg);
      } catch (e) {
        state.dirty = true;
        this.logger.warn(`live progress of ${key}: ${e instanceof Error ? e.message : e}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    const sub = await this.subscription?.catch(() => null);
    await sub?.stop();
  }
}

/** The run a subscribe or unsubscribe names ({sessionId: <uuid>, kind?: 'session' | 'stream'}), or what is wrong with it. */
function runOf(body: unknown): { kind: RunKind; runId: string } | string {
  const b = (body ?? {}) as { sessionId?: unknown; kind?: unknown };
  const kind = b.kind ?? 'session';
  if (typeof b.sessionId !== 'string' || !isUUID(b.sessionId) || !KINDS.includes(kind as RunKind)) {
    return "subscribe needs {sessionId: <uuid>, kind?: 'session' | 'stream'}";
  }
  return { kind: kind as RunKind, runId: b.sessionId };
}
