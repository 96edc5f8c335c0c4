import { migrations } from '@ddnn/migrations';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { MigrationFailedError } from './errors';

/** Wraps migration classes so that a failure is a MigrationFailedError naming the migration. */
export function namingFailures(classes: (new () => MigrationInterface)[]): (new () => MigrationInterface)[] {
  return classes.map((M) => {
    const named = class extends M {
      override async up(q: QueryRunner): Promise<void> {
        try {
          await super.up(q);
        } catch (e) {
          throw new MigrationFailedError(M.name, e);
        }
      }
    };
    Object.defineProperty(named, 'name', { value: M.name });
    return named;
  });
}

/** Applies every pending schema migration to the database at `url` (each in its own transaction); returns their names. */
export async function runMigrations(
  url: string,
  classes: (new () => MigrationInterface)[] = migrations,
): Promise<string[]> {
  const ds = new DataSource({ type: 'postgres', url, migrations: namingFailures(classes), migrationsRun: false, logging: false });
  await ds.initialize();
  try {
    const applied = await ds.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}
