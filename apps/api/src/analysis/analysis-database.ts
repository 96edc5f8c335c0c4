import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { EventStore } from '@ddnn/events';
import { DATABASE_RUNTIME, type DatabaseRuntime } from '../database/database.tokens';

/** The analysis module's own small pool: long exports and table loads never starve the session engine. */
@Injectable()
export class AnalysisDatabase implements OnApplicationShutdown {
  readonly pool: Pool;
  readonly store: EventStore;

  constructor(@Inject(DATABASE_RUNTIME) db: DatabaseRuntime) {
    this.pool = new Pool({ connectionString: db.url, max: 4, application_name: 'ddnn-analysis' });
    this.pool.on('error', () => undefined);
    this.store = new EventStore(this.pool);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
