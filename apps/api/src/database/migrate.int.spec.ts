import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrations } from '@ddnn/migrations';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';
import { MigrationFailedError, namedMigrations, runPendingMigrations } from './migrate';

class CreateWidgets1700000000001 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets (id int PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets');
  }
}
class BrokenWidgets1700000000002 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE widgets ADD COLUMN size nonexistent_type');
  }
  async down(): Promise<void> {}
}

describe('migrations', () => {
  let db: TestDatabase;
  let ds: DataSource | undefined;
  beforeEach(async () => (db = await createTestDatabase()));
  afterEach(async () => {
    await ds?.destroy();
    await db.drop();
  });

  it('applies the platform migrations once, then finds nothing pending', async () => {
    ds = await new DataSource({ type: 'postgres', url: db.url, migrations: namedMigrations(migrations) }).initialize();
    expect(await runPendingMigrations(ds)).toEqual(migrations.map((m) => m.name));
    expect(await runPendingMigrations(ds)).toEqual([]);
  });

  it('stops at a failing migration, names it, and keeps what earlier migrations stored', async () => {
    ds = await new DataSource({
      type: 'postgres',
      url: db.url,
      migrations: namedMigrations([CreateWidgets1700000000001, BrokenWidgets1700000000002]),
    }).initialize();
    const failure = runPendingMigrations(ds);
    await expect(failure).rejects.toBeInstanceOf(MigrationFailedError);
    await expect(failure).rejects.toThrow(/migration BrokenWidgets1700000000002 failed: type "nonexistent_type" does not exist/);
    const applied = await ds.query('SELECT name FROM migrations');
    expect(applied).toEqual([{ name: 'CreateWidgets1700000000001' }]);
    expect(await ds.query('SELECT count(*)::int AS n FROM widgets')).toEqual([{ n: 0 }]);
  });
});
