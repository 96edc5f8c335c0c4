import { Inject, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayDisconnect,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import {
  LIVE_NAMESPACE,
  LiveEvents,
  type LiveEventMessage,
  type LiveProgressMessage,
  type LiveSubscribeAck,
  type StoredEvent,
} from '@ddnn/contracts';
import { CredentialsService } from '../auth/credentials.service';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';
import { SessionEventLog } from '../orchestrator/session-event-log';
import { SessionStore } from '../orchestrator/session-store';
import { LogTail } from './log-tail';

const SESSION_PREFIX = 'session-';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const room = (sessionId: string) => `session:${sessionId}`;

/**
 * /live: session events and progress for the dashboard. Every node follows the log itself and notifies the
 * clients subscribed to it, so messages carry log checkpoints and a reconnecting client catches up over
 * GET /api/sessions/:id/events?after=<checkpoint>.
 */
@WebSocketGateway({ namespace: LIVE_NAMESPACE, cors: { origin: true } })
export class LiveGateway implements OnGatewayInit, OnGatewayDisconnect, OnApplicationShutdown {
  private readonly logger = new Logger(LiveGateway.name);
  @WebSocketServer() private readonly server!: Namespace;
  private tail: LogTail | null = null;
  private starting: Promise<void> | null = null;
  /** Sessions whose progress changed since the last progress message, with the newest checkpoint. */
  private readonly dirty = new Map<string, string>();
  private readonly lastCheckpoint = new Map<string, string>();
  private progressTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DATABASE_RUNTIME) private readonly db: DatabaseRuntime,
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
    if (typeof sessionId !== 'string' || !UUID.test(sessionId)) return { ok: false, error: 'subscribe needs {sessionId: <uuid>}' };
    const session = await this.store.get(sessionId);
    if (!session) return { ok: false, error: `no session ${sessionId}` };
    await this.ensureTail();
    await socket.join(room(sessionId));
    return { ok: true, sessionId, status: session.status, checkpoint: await this.log.store.headCheckpoint() };
  }

  @SubscribeMessage(LiveEvents.unsubscribe)
  async unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown): Promise<{ ok: boolean }> {
    const sessionId = (body as { sessionId?: unknown } | null)?.sessionId;
    if (typeof sessionId !== 'string') return { ok: false };
    await socket.leave(room(sessionId));
    return { ok: true };
  }

  handleDisconnect(): void {
    // socket.io drops a closed socket's rooms itself; nothing is kept per client here.
  }

  private ensureTail(): Promise<void> {
    this.starting ??= (async () => {
      const tail = new LogTail(
        this.db.url,
        this.log.store,
        (events) => this.forward(events),
        (e) => this.logger.warn(`live feed: ${e instanceof Error ? e.message : e}`),
      );
      await tail.start();
      this.tail = tail;
      this.progressTimer = setInterval(() => void this.sendProgress(), 250);
      // A quiet session (queued, or between slow samples) still gets a progress message now and then, so
      // clients can tell a live feed from a dead one.
      this.heartbeatTimer = setInterval(() => this.markSubscribedDirty(), 3000);
    })().catch((e: unknown) => {
      this.starting = null;
      throw e;
    });
    return this.starting;
  }

  private forward(events: StoredEvent[]): void {
    for (const event of events) {
      if (!event.streamId.startsWith(SESSION_PREFIX)) continue;
      const sessionId = event.streamId.slice(SESSION_PREFIX.length);
      const r = room(sessionId);
      if (!this.server.adapter.rooms.get(r)?.size) continue;
      const msg: LiveEventMessage = { sessionId, checkpoint: event.checkpoint, event };
      this.server.to(r).emit(LiveEvents.event, msg);
      this.dirty.set(sessionId, event.checkpoint);
      this.lastCheckpoint.set(sessionId, event.checkpoint);
    }
  }

  private markSubscribedDirty(): void {
    for (const [name, members] of this.server.adapter.rooms) {
      if (!name.startsWith('session:') || !members.size) continue;
      const sessionId = name.slice('session:'.length);
      if (!this.dirty.has(sessionId)) this.dirty.set(sessionId, this.lastCheckpoint.get(sessionId) ?? '');
    }
  }

  private async sendProgress(): Promise<void> {
    const batch = [...this.dirty];
    this.dirty.clear();
    for (const [sessionId, checkpoint] of batch) {
      try {
        const session = await this.store.get(sessionId);
        if (!session) continue;
        const samplesDone = await this.log.countSamples(sessionId);
        const msg: LiveProgressMessage = {
          sessionId,
          status: session.status,
          samplesDone,
          sampleCount: session.sampleCount,
          checkpoint: checkpoint || null,
        };
        this.server.to(room(sessionId)).emit(LiveEvents.progress, msg);
      } catch (e) {
        this.logger.warn(`live progress of ${sessionId}: ${e instanceof Error ? e.message : e}`);
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.progressTimer);
    clearInterval(this.heartbeatTimer);
    await this.tail?.stop();
  }
}
