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
  type SessionSummary,
  type StoredEvent,
} from '@ddnn/contracts';
import { compareCheckpoints, subscribe, type Subscription } from '@ddnn/events';
import { CredentialsService } from '../auth/credentials.service';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionStore } from '../orchestrator/session-store';

const SESSION_PREFIX = 'session-';
const ROOM_PREFIX = 'session:';
const room = (sessionId: string) => `${ROOM_PREFIX}${sessionId}`;
const TICK_MS = 250;
/** A quiet session (queued, or between slow samples) still gets a progress message this often. */
const HEARTBEAT_TICKS = 12;

/**
 * /live: session events and progress for the dashboard. Every node follows the log through one subscription
 * of the event store (LISTEN/NOTIFY, re-opened after a database restart, polling as a fallback) and notifies
 * the clients subscribed to it, so messages carry log checkpoints and a reconnecting client catches up over
 * GET /api/sessions/:id/events?after=<checkpoint>. Progress is the session summary fold (the one the REST
 * API and the projection use), started from the log and advanced by the events the feed delivers.
 */
@WebSocketGateway({ namespace: LIVE_NAMESPACE, cors: { origin: true } })
export class LiveGateway implements OnGatewayInit, OnApplicationShutdown {
  private readonly logger = new Logger(LiveGateway.name);
  @WebSocketServer() private readonly server!: Namespace;
  private subscription: Promise<Subscription> | null = null;
  /** Watched sessions: their summary folded up to the newest event delivered, and whether it changed. */
  private readonly watched = new Map<string, { summary: SessionSummary; dirty: boolean }>();
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;

  constructor(
    private readonly log: SessionEventLog,
    private readonly store: SessionStore,
    private readonly credentials: CredentialsService,
  ) {}

  /** The feed is for operators: the handshake carries the operator token (`auth: {token}`). */
  afterInit(ns: Namespace): void {
    ns.use((socket, next) => {
      const token = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
      if (typeof token !== 'string' || !token) return next(new Error('the /live handshake needs auth.token (the operator token)'));
      this.credentials.identify(token).then(
        (who) => (who.kind === 'operator' ? next() : next(new Error('only the operator token may follow sessions'))),
        (e: unknown) => next(new Error(`cannot check the token: ${(e as Error).message}`)),
      );
    });
  }

  @SubscribeMessage(LiveEvents.subscribe)
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<LiveSubscribeAck> {
    const sessionId = (body as { sessionId?: unknown } | null)?.sessionId;
    if (typeof sessionId !== 'string' || !isUUID(sessionId)) return { ok: false, error: 'subscribe needs {sessionId: <uuid>}' };
    try {
      const session = await this.store.get(sessionId);
      if (!session) return { ok: false, error: `no session ${sessionId}` };
      await this.follow();
      await socket.join(room(sessionId));
      if (!this.watched.has(sessionId)) {
        const summary = await this.log.summary(sessionId);
        // Another watcher's state, folded by the feed meanwhile, is at least as new: keep it.
        if (!this.watched.has(sessionId)) this.watched.set(sessionId, { summary, dirty: true });
      }
      return { ok: true, sessionId, status: session.status, checkpoint: await this.log.store.headCheckpoint() };
    } catch (e) {
      return { ok: false, error: `cannot follow session ${sessionId} now: ${e instanceof Error ? e.message : e}` };
    }
  }

  @SubscribeMessage(LiveEvents.unsubscribe)
  async unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<{ ok: boolean }> {
    const sessionId = (body as { sessionId?: unknown } | null)?.sessionId;
    if (typeof sessionId !== 'string') return { ok: false };
    await socket.leave(room(sessionId));
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
      if (!event.streamId.startsWith(SESSION_PREFIX)) continue;
      const sessionId = event.streamId.slice(SESSION_PREFIX.length);
      const state = this.watched.get(sessionId);
      if (state && (state.summary.checkpoint === null || compareCheckpoints(event.checkpoint, state.summary.checkpoint) > 0)) {
        state.summary = foldSessionSummary(state.summary, event);
        state.dirty = true;
      }
      if (!this.server.adapter.rooms.get(room(sessionId))?.size) continue;
      const msg: LiveEventMessage = { sessionId, checkpoint: event.checkpoint, event };
      this.toWatchers(sessionId).emit(LiveEvents.event, msg);
    }
  }

  /**
   * This node's watchers of a session only: every node follows the log itself, so a broadcast through the Redis
   * adapter (REDIS_URL) would reach another node's watchers once from each node.
   */
  private toWatchers(sessionId: string) {
    return this.server.local.to(room(sessionId));
  }

  /** One timer: progress of the sessions that changed, of every watched one now and then; forgets unwatched ones. */
  private async tick(): Promise<void> {
    const heartbeat = ++this.ticks % HEARTBEAT_TICKS === 0;
    for (const [sessionId, state] of this.watched) {
      if (!this.server.adapter.rooms.get(room(sessionId))?.size) {
        this.watched.delete(sessionId);
        continue;
      }
      if (!state.dirty && !heartbeat) continue;
      state.dirty = false;
      try {
        const session = await this.store.get(sessionId);
        if (!session) continue;
        const msg: LiveProgressMessage = {
          sessionId,
          status: session.status,
          samplesDone: state.summary.samplesStarted,
          sampleCount: session.sampleCount,
          checkpoint: state.summary.checkpoint,
        };
        this.toWatchers(sessionId).emit(LiveEvents.progress, msg);
      } catch (e) {
        state.dirty = true;
        this.logger.warn(`live progress of ${sessionId}: ${e instanceof Error ? e.message : e}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    const sub = await this.subscription?.catch(() => null);
    await sub?.stop();
  }
}
