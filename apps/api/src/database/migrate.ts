import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';

export class MigrationFailedError extends Error {
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(`migration ${migration} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Wraps each migration class so that a failure names the migration it came from. */
export function namedMigrations(classes: (new () => MigrationInterface)[]): (new () => MigrationInterface)[] {
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

/** Runs pending migrations, each in its own transaction; returns the names applied. */
export async function runPendingMigrations(ds: DataSource): Promise<string[]> {
  const applied = await ds.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}
