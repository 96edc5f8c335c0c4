import { migrations } from '@ddnn/migrations';
import { Client } from 'pg';
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

/** Key of the advisory lock that lets one node at a time migrate (hashtextextended('ddnn-migrations', 0)). */
const MIGRATION_LOCK = `hashtextextended('ddnn-migrations', 0)`;

/**
 * Applies every pending schema migration to the database at `url` (each in its own transaction); returns their
 * names. Nodes starting together on one database take turns (an advisory lock): the first applies the
 * migrations, the others then find none pending, instead of failing on tables the first one just created.
 */
export async function runMigrations(
  url: string,
  classes: (new () => MigrationInterface)[] = migrations,
): Promise<string[]> {
  const lock = new Client({ connectionString: url, application_name: 'ddnn-migrations' });
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    const ds = new DataSource({ type: 'postgres', url, migrations: namingFailures(classes), migrationsRun: false, logging: false });
    await ds.initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await ds.destroy();
    }
  } finally {
    // Ending the connection releases the lock, also when the unlock cannot be sent.
    await lock.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}
