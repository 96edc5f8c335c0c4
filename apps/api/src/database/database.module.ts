import { Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { poolConfig } from '@ddnn/events';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { Database } from './database';
import { DatabaseRuntimeModule } from './database-runtime.module';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database.tokens';
import { NodePresence } from './node-presence';

const poolLogger = new Logger('Database');

/**
 * The node's database boundary: one pool (TypeORM's, configured here once), the Database provider with the
 * event store and its writer on that pool, and 503 for requests that meet an unreachable database. Global,
 * so its shutdown hooks run after the modules that use it.
 */
@Global()
@Module({
  imports: [
    DatabaseRuntimeModule,
    TypeOrmModule.forRootAsync({
      imports: [DatabaseRuntimeModule],
      inject: [DATABASE_RUNTIME, APP_CONFIG],
      useFactory: (db: DatabaseRuntime, config: AppConfig) => {
        const { connectionString, application_name, ...extra } = poolConfig({ url: db.url, max: config.DDNN_DB_POOL_SIZE, applicationName: 'ddnn-api' });
        return {
          type: 'postgres' as const,
          url: connectionString,
          applicationName: application_name,
          autoLoadEntities: true,
          synchronize: false,
          migrationsRun: false,
          extra,
          poolErrorHandler: (e: Error) => poolLogger.warn(`idle database connection lost: ${e.message}`),
        };
      },
    }),
  ],
  providers: [Database, NodePresence],
  exports: [DatabaseRuntimeModule, Database, NodePresence],
})
export class DatabaseModule {}
