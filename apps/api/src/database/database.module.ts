import { Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { migrations } from '@ddnn/migrations';
import { DatabaseRuntimeModule } from './database-runtime.module';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database.tokens';
import { namedMigrations, runPendingMigrations } from './migrate';

/** TypeORM on the platform database; pending migrations run before any repository is handed out. */
@Module({
  imports: [
    DatabaseRuntimeModule,
    TypeOrmModule.forRootAsync({
      imports: [DatabaseRuntimeModule],
      inject: [DATABASE_RUNTIME],
      useFactory: (db: DatabaseRuntime) => ({
        type: 'postgres' as const,
        url: db.url,
        autoLoadEntities: true,
        synchronize: false,
        migrationsRun: false,
        migrations: namedMigrations(migrations),
        extra: { max: 10 },
      }),
      dataSourceFactory: async (options) => {
        const ds = await new DataSource(options!).initialize();
        const applied = await runPendingMigrations(ds);
        if (applied.length) new Logger('Migrations').log(`applied ${applied.join(', ')}`);
        return ds;
      },
    }),
  ],
  exports: [DatabaseRuntimeModule],
})
export class DatabaseModule {}
