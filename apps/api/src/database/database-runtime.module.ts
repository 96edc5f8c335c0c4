import path from 'node:path';
import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database.tokens';

/** Provides the database location: DATABASE_URL, or an embedded server this process starts and stops. */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE_RUNTIME,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<DatabaseRuntime> => {
        if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: false, stop: async () => undefined };
        const db = await startEmbeddedPostgres(path.join(config.DDNN_DATA_DIR, 'postgres'));
        return { url: db.url, embedded: true, stop: db.stop };
      },
    },
  ],
  exports: [DATABASE_RUNTIME],
})
export class DatabaseRuntimeModule implements OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseRuntimeModule.name);

  constructor(@Inject(DATABASE_RUNTIME) private readonly runtime: DatabaseRuntime) {}

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop().catch((e) => this.logger.error(`stopping the database failed: ${e}`));
  }
}
