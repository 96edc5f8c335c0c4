import { Inject, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type OnGatewayConnection, type OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { DEVICES_NAMESPACE, DeviceEvents, type HeartbeatMessage } from '@ddnn/contracts';
import { parseHeartbeat, ProtocolError } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { attachRedisAdapter } from './cluster-adapter';
import { DevicesService } from './devices.service';
import { MalformedMessages } from './malformed-messages';
import { MESSAGE_FLOOD, SocketEndpoint } from './socket-endpoint';
import { type DeviceIdentity, deviceRoom } from './transport/device-endpoint';
import { DeviceTransportService } from './transport/device-transport.service';

type Ack = (reply: unknown) => void;
const SERVER_ONLY = new Set<string>([DeviceEvents.deploy, DeviceEvents.infer, DeviceEvents.error]);

/**
 * socket.io /devices: the handshake carries the device token (auth.token); unknown, revoked and locked
 * devices are refused. Every message a device sends is validated; a malformed one gets a protocol-error
 * reply (and an error ack when it asked for one) and is counted (MalformedMessages logs the counts at most once
 * a minute per device), never a crash.
 */
// The message size limit is server-wide (socket.io has one engine): see PlatformIoAdapter.
@WebSocketGateway({ namespace: DEVICES_NAMESPACE })
export class DevicesGateway implements OnGatewayInit, OnGatewayConnection, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(DevicesGateway.name);
  private ns?: Namespace;
  private sweeper?: NodeJS.Timeout;
  private closing = false;
  private closeCluster?: Promise<(() => Promise<void>) | undefined>;
  private readonly local = new Map<string, SocketEndpoint>();
  /** Per device, connectivity writes in the order they happened (a quick disconnect must not be logged first). */
  private readonly chains = new Map<string, Promise<void>>();
  /**
   * Per device, the heartbeat waiting for its turn in the chain. A later one replaces it: a device that sent 1.7
   * million heartbeats in 30 s had queued a write for each (1.6 GB, hours to drain); now it queues one.
   */
  private readonly queuedBeats = new Map<string, { heartbeat: HeartbeatMessage; endpoint: SocketEndpoint }>();

  constructor(
    private readonly devices: DevicesService,
    private readonly transport: DeviceTransportService,
    private readonly malformed: MalformedMessages,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const { released, liveNodes, unsettled } = await this.devices.releaseStale();
    if (released) this.logger.log(`${released} device(s) left active by a node no longer running marked disconnected`);
    if (unsettled) this.logger.log(`${unsettled} device(s) of other nodes left as they are: the database just restarted, so whether their nodes run is not known yet (the inactivity sweep settles them)`);
    if (liveNodes.length && !this.config.REDIS_URL) {
      this.logger.warn(
        `API node(s) ${liveNodes.join(', ')} run on this database, and this node has no Redis (REDIS_URL): it cannot reach their devices or see their live events. Give every node the same REDIS_URL.`,
      );
    }
    const every = Math.max(500, Math.min(5_000, Math.floor(this.config.DEVICE_INACTIVE_TIMEOUT_MS / 2)));
    this.sweeper = setInterval(() => {
      this.devices.sweepInactive(new Date(), (id, write) => this.inOrder(id, write)).catch((e: unknown) => this.logger.error(`inactivity sweep failed: ${(e as Error).message}`));
    }, every);
    this.sweeper.unref();
  }

  /** Logs every local device as disconnected while the database is still there, then closes the sockets. */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    for (const [id, endpoint] of this.local) {
      this.transport.detach(endpoint);
      await this.inOrder(id, () => this.devices.disconnected(id, 'server shutting down'));
    }
    this.local.clear();
    this.ns?.disconnectSockets(true);
    const close = await this.closeCluster;
    await close?.();
  }

  afterInit(ns: Namespace): void {
    this.ns = ns;
    this.transport.useNamespace(ns);
    const redis = this.config.REDIS_URL;
    if (redis) {
      this.closeCluster = attachRedisAdapter(ns.server, redis, this.config.DDNN_REDIS_PREFIX).then(
        (close) => {
          this.transport.useNamespace(ns, true);
          return close;
        },
        (e: unknown) => {
          this.logger.error(`REDIS_URL is set but the Redis adapter failed (${(e as Error).message}): devices are reachable only from the node they connect to`);
          return undefined;
        },
      );
    }
    ns.use((socket, next) => {
      const auth = socket.handshake.auth as Record<string, unknown> | undefined;
      this.devices.authenticate(auth?.token, auth?.deviceId).then(
        (device) => {
          const identity: DeviceIdentity = { id: device.id, name: device.name, role: device.role, view: device.view };
          socket.data.device = identity;
          next();
        },
        (e: unknown) => {
          this.logger.warn(`refused a /devices handshake from ${socket.handshake.address}: ${(e as Error).message}`);
          next(new Error((e as Error).message));
        },
      );
    });
  }

  async handleConnection(socket: Socket): Promise<void> {
    const device = socket.data.device as DeviceIdentity | undefined;
    if (!device) {
      socket.disconnect(true);
      return;
    }
    const previous = this.transport.endpoint(device.id);
    const endpoint = new SocketEndpoint(socket, device);
    this.local.set(device.id, endpoint);
    socket.join(deviceRoom(device.id));
    // Every message counts, malformed ones and unknown events too: each costs a parse, and an error sent back.
    socket.use(([event], next) => {
      if (!endpoint.messageFlood(Date.now())) return next();
      const error = `more than ${MESSAGE_FLOOD.messages} messages in ${MESSAGE_FLOOD.windowMs / 1000} s: disconnected`;
      this.logger.warn(`device ${device.name} (${device.id}) sent ${error}`);
      socket.emit(DeviceEvents.error, { event: String(event), error });
      socket.disconnect(true);
    });
    socket.on(DeviceEvents.heartbeat, (payload: unknown, ack?: Ack) => this.onHeartbeat(socket, device, endpoint, payload, ack));
    socket.onAny((event: string, ...args: unknown[]) => {
      if (event === DeviceEvents.heartbeat) return;
      const reason = SERVER_ONLY.has(event) ? `${event} is sent by the server, not by devices` : `unknown event ${JSON.stringify(event)}`;
      this.refuse(socket, device, event, reason, args[args.length - 1]);
    });
    socket.once('disconnect', (reason: string) => {
      if (this.closing) return;
      // A replaced connection is not a disconnect of the device.
      if (this.local.get(device.id) === endpoint) {
        this.local.delete(device.id);
        this.transport.detach(endpoint);
        void this.inOrder(device.id, () => this.devices.disconnected(device.id, reason, { throughOutage: true }));
      }
    });
    this.logger.log(`device ${device.name} (${device.id}) connected from ${socket.handshake.address}`);
    // Reachable at once: the device is marked active by the write below (and by its first heartbeat), and a deploy
    // sent the moment the API shows it active used to leave it out as "not connected". Its calls wait for open().
    // Not while a connection of the device still serves: that one does until this one has opened (this one may yet
    // be refused, and the device left with no endpoint at all).
    if (!previous) this.transport.attach(endpoint);
    // The connection is logged before anyone can ask the device anything: a deploy made the moment it appears
    // used to land in its log ahead of its DeviceConnected.
    await this.inOrder(device.id, () => this.devices.connected(device.id, socket.handshake.address || null, { throughOutage: true }));
    // A rotation, revocation or lock that landed between the handshake's check and the room join above found no
    // socket to cut; checking the token again now that the socket is in its room closes that window.
    if (!(await this.stillTrusted(socket, device))) {
      socket.disconnect(true);
      return;
    }
    if (!socket.connected || this.local.get(device.id) !== endpoint) return;
    if (previous) this.transport.attach(endpoint);
    endpoint.open();
    if (previous && previous instanceof SocketEndpoint) {
      // A restarted agent replaces its own dead connection; two live agents with one identity replace each other.
      this.logger.warn(`device ${device.name} (${device.id}): a new connection from ${socket.handshake.address} replaced the one it had`);
      previous.shutdown('replaced by a newer connection of the same device');
    }
  }

  private stillTrusted(socket: Socket, device: DeviceIdentity): Promise<boolean> {
    const token = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    return this.devices.authenticate(token).then(
      (d) => d.id === device.id,
      (e: unknown) => {
        this.logger.warn(`device ${device.name} (${device.id}) cut off while connecting: ${(e as Error).message}`);
        return false;
      },
    );
  }

  private inOrder(deviceId: string, write: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(deviceId) ?? Promise.resolve())
      .then(write)
      .catch((e: unknown) => this.logger.error(`connectivity of ${deviceId}: ${(e as Error).message}`));
    this.chains.set(deviceId, next);
    void next.then(() => {
      if (this.chains.get(deviceId) === next) this.chains.delete(deviceId);
    });
    return next;
  }

  private onHeartbeat(socket: Socket, device: DeviceIdentity, endpoint: SocketEndpoint, payload: unknown, ack?: Ack): void {
    let heartbeat;
    try {
      heartbeat = parseHeartbeat(payload);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.refuse(socket, device, DeviceEvents.heartbeat, e.message, ack);
      return;
    }
    // A heartbeat proves liveness and carries the agent's own problem; what a device says it runs is a claim (the
    // installed section is what the server deployed and the device acknowledged, DeviceTransportService.deploy).
    const queued = this.queuedBeats.get(device.id);
    if (queued?.endpoint === endpoint) {
      // Its write is still waiting: it records this one instead (the latest problem), and this one is taken.
      queued.heartbeat = heartbeat;
      if (typeof ack === 'function') ack({ ok: true });
      return;
    }
    const beat = { heartbeat, endpoint };
    this.queuedBeats.set(device.id, beat);
    // In order with the connection's own writes, and only while it lasts: a device back from a stall is logged active
    // again (DeviceBecameActive), which a heartbeat handled before its DeviceConnected, or after its
    // DeviceDisconnected, would log out of place.
    void this.inOrder(device.id, async () => {
      if (this.queuedBeats.get(device.id) === beat) this.queuedBeats.delete(device.id);
      // Not from a connection replaced or closing, nor while the server logs its devices out at shutdown.
      if (this.closing || !socket.connected || this.local.get(device.id) !== endpoint) return;
      await this.devices.activity(device.id, beat.heartbeat);
      if (typeof ack === 'function') ack({ ok: true });
    });
  }

  private refuse(socket: Socket, device: DeviceIdentity, event: string, error: string, ack: unknown): void {
    this.malformed.record(device.id, device.name, `${event}: ${error}`);
    socket.emit(DeviceEvents.error, { event, error });
    if (typeof ack === 'function') (ack as Ack)({ ok: false, error });
  }
}
