import path from 'node:path';
import { Global, Logger, Module } from '@nestjs/common';
import { runMigrations } from '@ddnn/events';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { startEmbeddedPostgres } from './embedded-postgres';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database.tokens';

/**
 * Provides the database location: DATABASE_URL, or an embedded server this process starts. The embedded
 * server is stopped by main.ts after the application has closed, so nothing still uses it.
 */
@Global()
@Module({
  providers: [
    {
      provide: DATABASE_RUNTIME,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<DatabaseRuntime> => {
        const runtime: DatabaseRuntime = config.DATABASE_URL
          ? { url: config.DATABASE_URL, embedded: false }
          : { url: (await startEmbeddedPostgres(path.join(config.DDNN_DATA_DIR, 'postgres'))).url, embedded: true };
        // Before any repository exists: nothing may touch a schema that is not current.
        const applied = await runMigrations(runtime.url);
        if (applied.length) new Logger('Migrations').log(`applied ${applied.join(', ')}`);
        return runtime;
      },
    },
  ],
  exports: [DATABASE_RUNTIME],
})
export class DatabaseRuntimeModule {}
