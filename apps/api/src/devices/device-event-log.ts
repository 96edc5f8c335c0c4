import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { type DeviceStatus, type NewEvent, type StoredEvent, streamIds } from '@ddnn/contracts';
import { deviceStatusesByIds, type EventStore } from '@ddnn/events';
import { Database } from '../database/database';

/** Appends device facts (registration, connectivity, deployments) to the event log, stream device-<id>. */
@Injectable()
export class DeviceEventLog implements OnApplicationShutdown {
  private readonly logger = new Logger(DeviceEventLog.name);
  private readonly store: EventStore;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(db: Database) {
    this.store = db.store;
  }

  async append(deviceId: string, events: NewEvent[], node?: string): Promise<void> {
    const withMeta = events.map((e) => ({ ...e, metadata: { ...e.metadata, deviceId, ...(node ? { node } : {}) } }) as NewEvent);
    const write = this.store.appendToStream(streamIds.device(deviceId), withMeta);
    this.pending.add(write);
    try {
      await write;
    } finally {
      this.pending.delete(write);
    }
  }

  /** Like append, but a failure is logged rather than thrown (connectivity must not fail a socket handler). */
  appendQuietly(deviceId: string, events: NewEvent[], node?: string): Promise<void> {
    return this.append(deviceId, events, node).catch((e: unknown) =>
      this.logger.error(`appending ${events.map((x) => x.type).join(', ')} for device ${deviceId} failed: ${(e as Error).message}`),
    );
  }

  /** The device's latest `limit` events, oldest first (its registration, connectivity and deployments). */
  async history(deviceId: string, limit: number): Promise<StoredEvent[]> {
    const stream = streamIds.device(deviceId);
    const version = await this.store.streamVersion(stream);
    return version ? this.store.readStream(stream, { from: Math.max(1, version - limit + 1), limit }) : [];
  }

  /** The devices' statuses from the device_statuses projection (lagging the log), by id: one query. */
  statuses(deviceIds: string[]): Promise<Map<string, DeviceStatus>> {
    return deviceStatusesByIds(this.store.pool, deviceIds);
  }

  /** Finishes the writes in flight (the pool closes after this module, in the global DatabaseModule). */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
