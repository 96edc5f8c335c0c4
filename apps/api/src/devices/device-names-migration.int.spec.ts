import { DataSource } from 'typeorm';
import { migrations } from '@ddnn/migrations';
import { createTestDatabase, type TestDatabase } from '@ddnn/testing';

describe('the device-names-unique migration (real Postgres)', () => {
  let db: TestDatabase;
  afterAll(() => db?.drop());

  it('keeps the oldest holder of a name, suffixes the others with their id, then refuses a second holder', async () => {
    db = await createTestDatabase();
    const at = migrations.findIndex((m) => m.name === 'DeviceNamesUnique1766500000000');
    expect(at).toBeGreaterThan(0);
    const before = await new DataSource({ type: 'postgres', url: db.url, migrations: migrations.slice(0, at) }).initialize();
    await before.runMigrations({ transaction: 'each' });
    await before.query(`INSERT INTO device_profiles (id, name, provisioning_key_hash) VALUES ('00000000-0000-4000-8000-000000000001', 'p', 'h')`);
    const insert = (id: string, name: string, createdAt: string) =>
      before.query(`INSERT INTO devices (id, profile_id, name, role, view, created_at) VALUES ($1, '00000000-0000-4000-8000-000000000001', $2, 'end-device', 0, $3)`, [id, name, createdAt]);
    await insert('aaaaaaaa-0000-4000-8000-000000000002', 'cam-3', '2026-01-02T00:00:00Z');
    await insert('bbbbbbbb-0000-4000-8000-000000000001', 'cam-3', '2026-01-01T00:00:00Z');
    await insert('cccccccc-0000-4000-8000-000000000003', 'cam-3', '2026-01-03T00:00:00Z');
    await insert('dddddddd-0000-4000-8000-000000000004', 'cam-4', '2026-01-01T00:00:00Z');
    await before.destroy();

    const after = await new DataSource({ type: 'postgres', url: db.url, migrations }).initialize();
    try {
      await after.runMigrations({ transaction: 'each' });
      const rows = (await after.query('SELECT id, name FROM devices ORDER BY id')) as { id: string; name: string }[];
      expect(rows.map((r) => r.name)).toEqual(['cam-3-aaaaaaaa', 'cam-3', 'cam-3-cccccccc', 'cam-4']);
      await expect(
        after.query(`INSERT INTO devices (id, profile_id, name, role, view) VALUES ('eeeeeeee-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000001', 'cam-4', 'end-device', 0)`),
      ).rejects.toThrow(/devices_name_key/);
    } finally {
      await after.destroy();
    }
  });
});
