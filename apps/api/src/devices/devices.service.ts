import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, UnauthorizedException } from '@nestjs/common';
import type { DeviceStatus, DeviceHistoryEntry, DeviceList, DeviceListQuery, DeviceLogView, HeartbeatMessage, DeviceRole, DeviceView, ProvisionDeviceRequest, ProvisionDeviceResponse, UpdateDeviceRequest } from '@ddnn/contracts';
import { HandshakeRefusals, isUuid, missTally, type NewEvent } from '@ddnn/contracts';
import { isDatabaseUnavailable, newEventId, retryWhileUnavailable } from '@ddnn/events';
import { generateToken, hashToken } from '../auth/tokens';
import { NodePresence } from '../database/node-presence';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ProfilesService } from '../profiles/profiles.service';
import type { DeviceEntity } from './device.entity';
import { DeviceEventLog } from './device-event-log';
import { DEVICE_NAME_KEY, DevicesRepository } from './devices.repository';
import { isUniqueViolation } from '../database/unique-violation';
import { NODE_ID } from '../config/node-id';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The public view of a device row (never its token hash) with its projected status, if any. */
export function toDeviceView(d: DeviceEntity, status: DeviceStatus | null): DeviceView {
  return {
    id: d.id,
    profileId: d.profileId,
    name: d.name,
    role: d.role,
    view: d.view,
    capabilities: d.capabilities,
    simulated: d.simulated,
    adminState: d.adminState,
    hasToken: d.tokenHash !== null,
    connectivity: {
      active: d.active,
      node: d.node,
      lastConnectAt: iso(d.lastConnectAt),
      lastDisconnectAt: iso(d.lastDisconnectAt),
      lastActivityAt: iso(d.lastActivityAt),
    },
    deployed: d.modelId && d.modelVersion && d.section ? { modelId: d.modelId, modelVersion: d.modelVersion, section: d.section } : null,
    tags: d.tags ?? [],
    problem: d.problem ?? null,
    log: status ? logView(status) : null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** A device's lifetime counters, its misses counted as device_miss_rate counts them (missTally). */
function logView(status: DeviceStatus): DeviceLogView {
  const { answered, missed, notCaptured, missRate } = missTally(status.answered, status.missed, status.notCaptured ?? 0);
  return { answered, missed, notCaptured, missRate, connects: status.connects, disconnects: status.disconnects, lastDisconnectReason: status.lastDisconnectReason };
}

function checkRoleView(role: DeviceRole, view: number | null | undefined): void {
  if (role === 'end-device' && (view === null || view === undefined)) throw new BadRequestException('an end device needs a view (the camera it serves)');
}

/** Device registry: provisioning, tokens, operator updates, connectivity (each change an event). */
@Injectable()
export class DevicesService {
  private readonly logger = new Logger(DevicesService.name);

  constructor(
    private readonly devices: DevicesRepository,
    private readonly profiles: ProfilesService,
    private readonly events: DeviceEventLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(NODE_ID) private readonly node: string,
    private readonly presence: NodePresence,
  ) {}

  /** A device presents its profile's provisioning key and gets its own token (shown once). */
  async provision(req: ProvisionDeviceRequest, simulated = false): Promise<ProvisionDeviceResponse> {
    const profile = await this.profiles.byKey(req.profileKey);
    if (!profile) throw new UnauthorizedException('unknown provisioning key');
    checkRoleView(req.role, req.view);
    const token = generateToken('ddnn_dev');
    const device = await this.uniqueName(req.name, () => this.devices.create({
      id: randomUUID(),
      profileId: profile.id,
      name: req.name,
      role: req.role,
      view: req.view ?? null,
      capabilities: req.capabilities ?? {},
      simulated,
      tokenHash: hashToken(token),
      adminState: 'unlocked',
      active: false,
    }));
    await this.events.append(device.id, [
      {
        type: 'DeviceRegistered',
        data: { deviceId: device.id, name: device.name, role: device.role, view: device.view, profileId: profile.id, capabilities: device.capabilities, simulated },
      },
    ], this.node);
    return { deviceId: device.id, token };
  }

  /** A write that gives a device a name another device has: 409. */
  private async uniqueName<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (!isUniqueViolation(e, DEVICE_NAME_KEY)) throw e;
      // Not which device holds it: a provisioning key is enough to ask, and it grants no reading of the registry.
      throw new ConflictException(`a device named ${name} is already registered: choose another name, or delete that device first`);
    }
  }

  async list(q: DeviceListQuery): Promise<DeviceList> {
    const limit = q.limit ?? 50;
    const offset = q.offset ?? 0;
    const [rows, total] = await this.devices.page(q, limit, offset);
    const statuses = await this.events.statuses(rows.map((d) => d.id));
    return { items: rows.map((d) => toDeviceView(d, statuses.get(d.id) ?? null)), total, limit, offset };
  }

  async get(id: string): Promise<DeviceView> {
    const d = await this.find(id);
    return toDeviceView(d, (await this.events.statuses([id])).get(id) ?? null);
  }

  async update(id: string, req: UpdateDeviceRequest): Promise<DeviceView> {
    const d = await this.find(id);
    const role = req.role ?? d.role;
    const view = req.view === undefined ? d.view : req.view;
    checkRoleView(role, view);
    await this.uniqueName(req.name ?? d.name, () =>
      this.devices.update(id, {
        adminState: req.adminState ?? d.adminState,
        role,
        view,
        ...(req.name !== undefined ? { name: req.name } : {}),
        ...(req.tags !== undefined ? { tags: [...new Set(req.tags)] } : {}),
      }),
    );
    return this.get(id);
  }

  /**
   * Deletes the device's row (decommission): its token stops working, and it leaves the registry and every list.
   * Its events stay in the log (stream device-<id>), so sessions it served still replay with its name.
   */
  async remove(id: string): Promise<void> {
    const d = await this.find(id);
    if (d.active) await this.disconnected(id, 'deleted by an operator');
    await this.devices.remove(id);
  }

  /** The device's latest events (connects, disconnects, deployments), newest first; also for deleted devices. */
  async history(id: string, limit = 50): Promise<DeviceHistoryEntry[]> {
    const events = await this.events.history(id, limit);
    return events.reverse().map((e) => ({ type: e.type, at: e.createdAt, data: e.data as unknown as Record<string, unknown> }));
  }

  /** A new token for the device (shown once); the old one stops working at once. */
  async rotateToken(id: string): Promise<ProvisionDeviceResponse> {
    await this.find(id);
    const token = generateToken('ddnn_dev');
    await this.devices.update(id, { tokenHash: hashToken(token) });
    return { deviceId: id, token };
  }

  /** Removes the device's token: it can no longer connect or call the API until rotated. */
  async revokeToken(id: string): Promise<DeviceView> {
    await this.find(id);
    await this.devices.update(id, { tokenHash: null });
    return this.get(id);
  }

  /**
   * The device a socket handshake token belongs to; refuses unknown tokens and locked devices. `claimedId` (the id
   * the agent saved with its token) only names why an unknown token is refused: its token was revoked or rotated,
   * or the device was deleted. The agent stops on either rather than provisioning itself back.
   */
  async authenticate(token: unknown, claimedId?: unknown): Promise<DeviceEntity> {
    if (typeof token !== 'string' || token.length === 0) throw new Error(HandshakeRefusals.missing);
    const d = await this.devices.byTokenHash(hashToken(token));
    if (!d) throw new Error(await this.unknownTokenRefusal(claimedId));
    if (d.adminState === 'locked') throw new Error(HandshakeRefusals.locked);
    return d;
  }

  private async unknownTokenRefusal(claimedId: unknown): Promise<string> {
    if (typeof claimedId !== 'string') return HandshakeRefusals.unknown;
    if (!isUuid(claimedId)) return HandshakeRefusals.unknown;
    return (await this.devices.byId(claimedId)) ? HandshakeRefusals.revoked : HandshakeRefusals.deleted;
  }

  /** `throughOutage`: retried while the database is unreachable (connectivityThroughOutage), for a live socket's changes. */
  async connected(id: string, remoteAddress: string | null, opts: { throughOutage?: boolean } = {}): Promise<void> {
    const write = async (event: NewEvent): Promise<void> => {
      const now = new Date();
      await this.devices.update(id, { active: true, node: this.node, lastConnectAt: now, lastActivityAt: now });
      await this.appendConnectivity(id, event, opts.throughOutage);
    };
    const event: NewEvent = { type: 'DeviceConnected', eventId: newEventId(), data: { deviceId: id, node: this.node, remoteAddress } };
    await (opts.throughOutage ? this.throughOutage(() => write(event)) : write(event));
  }

  async disconnected(id: string, reason: string, opts: { throughOutage?: boolean } = {}): Promise<void> {
    const write = async (event: NewEvent): Promise<void> => {
      await this.devices.update(id, { active: false, node: null, lastDisconnectAt: new Date() });
      await this.appendConnectivity(id, event, opts.throughOutage);
    };
    const event: NewEvent = { type: 'DeviceDisconnected', eventId: newEventId(), data: { deviceId: id, node: this.node, reason } };
    await (opts.throughOutage ? this.throughOutage(() => write(event)) : write(event));
  }

  /**
   * A live socket's connect or disconnect, written through a database outage (retried up to DDNN_DB_OUTAGE_LIMIT_MS,
   * its event with one id across attempts, so written once): a connect lost to a database restart left the row
   * disconnected, and a heartbeat never makes such a row active again (markAlive), so a device serving samples read as
   * disconnected until it reconnected.
   */
  private throughOutage(write: () => Promise<void>): Promise<void> {
    return retryWhileUnavailable(write, { outageLimitMs: this.config.DDNN_DB_OUTAGE_LIMIT_MS });
  }

  /** The event of a connectivity change: a failure is logged, not thrown, unless it is an outage to retry through. */
  private async appendConnectivity(id: string, event: NewEvent, throughOutage = false): Promise<void> {
    if (!throughOutage) return this.events.appendQuietly(id, [event], this.node);
    await this.events.append(id, [event], this.node).catch((e: unknown) => {
      if (isDatabaseUnavailable(e)) throw e;
      this.logger.error(`appending ${event.type} for device ${id} failed: ${(e as Error).message}`);
    });
  }

  /**
   * A heartbeat or a reply on a live connection: the device is alive now. Of what it says about itself only its own
   * problem is kept. A device the sweep had marked inactive is active again, with a DeviceBecameActive: without it the
   * device status, its connectivity timeline and the device_inactive alert said inactive until it reconnected.
   */
  async activity(id: string, installed?: HeartbeatMessage): Promise<void> {
    // A heartbeat states the agent's problem each time (absent = none), so a fixed agent clears it.
    await this.logRevived(await this.devices.markAlive([id], new Date(), this.node, installed ? (installed.problem ?? null) : undefined));
  }

  /**
   * Several devices are alive now, in one statement: in-process (simulated) devices beat together, so a fleet of
   * them costs one query per heartbeat interval, not one per device.
   */
  async activityOf(ids: string[]): Promise<void> {
    if (ids.length) await this.logRevived(await this.devices.markAlive(ids, new Date(), this.node));
  }

  private async logRevived(revived: { id: string; silentForMs: number }[]): Promise<void> {
    for (const { id, silentForMs } of revived) {
      this.logger.log(`device ${id} is active again after ${Math.round(silentForMs / 1000)} s of silence`);
      await this.events.appendQuietly(id, [{ type: 'DeviceBecameActive', data: { deviceId: id, node: this.node, silentForMs } }], this.node);
    }
  }

  async deployed(id: string, ack: { modelId: string; modelVersion: string; section: string; bytes: number }): Promise<void> {
    await this.devices.update(id, { modelId: ack.modelId, modelVersion: ack.modelVersion, section: ack.section, lastActivityAt: new Date() });
    await this.events.append(id, [{ type: 'ModelDeployed', data: { deviceId: id, ...ack } }], this.node);
  }

  /**
   * Marks devices silent for longer than the timeout inactive, each with a DeviceWentInactive event. `inOrder` runs
   * each device's write in order with its connection's others (DevicesGateway): a heartbeat arriving meanwhile is
   * then logged as DeviceBecameActive after it, not before.
   */
  async sweepInactive(now = new Date(), inOrder: (deviceId: string, write: () => Promise<void>) => Promise<void> = (_, write) => write()): Promise<string[]> {
    const timeoutMs = this.config.DEVICE_INACTIVE_TIMEOUT_MS;
    const before = new Date(now.getTime() - timeoutMs);
    const gone: string[] = [];
    for (const d of await this.devices.silentSince(before)) {
      await inOrder(d.id, async () => {
        if (!(await this.devices.markInactive(d.id, before))) return;
        gone.push(d.id);
        await this.events.appendQuietly(d.id, [
          { type: 'DeviceWentInactive', data: { deviceId: d.id, lastActivityAt: (d.lastActivityAt as Date).toISOString(), timeoutMs } },
        ], this.node);
      });
    }
    return gone;
  }

  /**
   * At start-up: devices left marked active by a node that is not running (this node's previous run under the same
   * name, or a node that died) are not connected any more. A running node's are its own (NodePresence), whether or
   * not this node can reach them: returned as `liveNodes`. Other nodes' rows wait while presence has not settled (the
   * database just restarted: live nodes may not have taken their locks back yet), and are left to the inactivity
   * sweep then; this node's own rows wait while another process holds its name. A row is released only as it was read.
   */
  async releaseStale(): Promise<{ released: number; liveNodes: string[]; unsettled: number }> {
    const active = await this.devices.allActive();
    const { nodes: present, settled } = await this.presence.present(active.map((d) => d.node).filter((n): n is string => !!n));
    const live = new Set<string>();
    let released = 0;
    let unsettled = 0;
    for (const d of active) {
      const own = !d.node || d.node === this.node;
      if (own && this.presence.shadowed) continue;
      if (!own && present.has(d.node as string)) {
        live.add(d.node as string);
        continue;
      }
      if (!own && !settled) {
        unsettled++;
        continue;
      }
      if (!(await this.devices.releaseIfUnchanged(d.id, d.node, d.lastConnectAt))) continue;
      const reason = own ? 'server restarted' : `its API node ${d.node} stopped`;
      await this.events.appendQuietly(d.id, [{ type: 'DeviceDisconnected', data: { deviceId: d.id, node: this.node, reason } }], this.node);
      released++;
    }
    return { released, liveNodes: [...live], unsettled };
  }

  /** Of the given ids, those no registered device has. */
  async unregistered(ids: string[]): Promise<string[]> {
    const known = new Set((await this.devices.byIds(ids.filter(isUuid))).map((d) => d.id));
    return ids.filter((id) => !known.has(id));
  }

  /** The row of a device, or 404. */
  async find(id: string): Promise<DeviceEntity> {
    const d = await this.devices.byId(id);
    if (!d) throw new NotFoundException(`no device ${id}`);
    return d;
  }
}
