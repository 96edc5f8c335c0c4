import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { BatchingWriter, EventStore } from '@ddnn/events';
import { APP_CONFIG, type AppConfig } from '../config/config';

/**
 * The node's one way to the database: TypeORM's pool (configured once in DatabaseModule), the one EventStore
 * on that pool and its BatchingWriter. Repositories use TypeORM; the event log is read and written through
 * the store only (libs/events).
 */
@Injectable()
export class Database implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Database');
  readonly pool: Pool;
  readonly store: EventStore;
  /** Group commit across the samples in flight (and sessions); a sample's events commit together. */
  readonly writer: BatchingWriter;
  /** Limits for callers that retry through an outage (session appends). */
  readonly outageLimitMs: number;

  constructor(@InjectDataSource() dataSource: DataSource, @Inject(APP_CONFIG) config: AppConfig) {
    this.pool = (dataSource.driver as PostgresDriver).master as Pool;
    // TypeORM listens on idle clients and on the clients it checks out itself; a client checked out through
    // this pool by the store (pool.connect) gets a listener for life, so a terminated backend fails its query
    // and never the process.
    this.pool.on('connect', (client) => client.on('error', (e) => this.connectionError(e)));
    this.store = new EventStore(this.pool);
    // One session is one stream, hence one lane with one batch in flight: big batches keep its commits few.
    this.writer = new BatchingWriter(this.store, { maxBatchEvents: 2000, maxDelayMs: 5 });
    this.outageLimitMs = config.DDNN_DB_OUTAGE_LIMIT_MS;
  }

  private lastWarning = 0;

  /** A dropped connection is normal (restart, failover): one line per second at most. */
  connectionError(e: Error): void {
    if (Date.now() - this.lastWarning < 1000) return;
    this.lastWarning = Date.now();
    this.logger.warn(`database connection lost: ${e.message}`);
  }

  /** After the session engine stopped (its hooks run first), before TypeORM ends the pool. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.close().catch(() => undefined);
  }
}
