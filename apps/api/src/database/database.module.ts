import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseRuntimeModule } from './database-runtime.module';
import { DATABASE_RUNTIME, type DatabaseRuntime } from './database.tokens';

/** TypeORM on the platform database, which DatabaseRuntimeModule has already migrated. */
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
        extra: { max: 10 },
      }),
    }),
  ],
  exports: [DatabaseRuntimeModule],
})
export class DatabaseModule {}
