import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A device's name is unique in the registry: two rows named cam-3 left an operator unable to tell which camera a
 * list, an alert or a run page meant. Names already taken twice keep the oldest row's name; each later one gains its
 * id's first 8 characters (cam-3-1a2b3c4d), which an operator can rename.
 */
export class DeviceNamesUnique1766500000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE devices d SET name = d.name || '-' || left(d.id::text, 8)
      FROM (SELECT id, row_number() OVER (PARTITION BY name ORDER BY created_at, id) AS nth FROM devices) ranked
      WHERE ranked.id = d.id AND ranked.nth > 1`);
    await q.query('CREATE UNIQUE INDEX devices_name_key ON devices (name)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX devices_name_key');
  }
}
