import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { type NewEvent, type StoredEvent, streamIds } from '@ddnn/contracts';
import { EventStore } from '@ddnn/events';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';

/** Appends device facts (registration, connectivity, deployments) to the event log, stream device-<id>. */
@Injectable()
export class DeviceEventLog implements OnApplicationShutdown {
  private readonly logger = new Logger(DeviceEventLog.name);
  private readonly pool: Pool;
  private readonly store: EventStore;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(@Inject(DATABASE_RUNTIME) db: DatabaseRuntime) {
    this.pool = new Pool({ connectionString: db.url, max: 3 });
    this.pool.on('error', (e) => this.logger.error(`event log pool: ${e.message}`));
    this.store = new EventStore(this.pool);
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

  /** After every module's shutdown hooks (which may still log disconnects): finish writes, then close. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await this.pool.end();
  }
}
