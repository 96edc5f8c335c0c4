import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Device registry: profiles (with the hash of their provisioning key), devices (operator intent apart from
 * observed connectivity; only the hash of a device token), the operator credential, and registered models.
 */
export class Devices1764259200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_profiles (
        id uuid PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        provisioning_key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE devices (
        id uuid PRIMARY KEY,
        profile_id uuid NOT NULL REFERENCES device_profiles (id),
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('end-device', 'edge')),
        view integer,
        capabilities jsonb NOT NULL DEFAULT '{}',
        simulated boolean NOT NULL DEFAULT false,
        token_hash text UNIQUE,
        admin_state text NOT NULL DEFAULT 'unlocked' CHECK (admin_state IN ('locked', 'unlocked')),
        active boolean NOT NULL DEFAULT false,
        node text,
        last_connect_at timestamptz,
        last_disconnect_at timestamptz,
        last_activity_at timestamptz,
        model_id text,
        model_version text,
        section text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX devices_created_idx ON devices (created_at DESC, id)`);
    await q.query(`CREATE INDEX devices_active_idx ON devices (active) WHERE active`);
    await q.query(`
      CREATE TABLE operator_credentials (
        id text PRIMARY KEY,
        token_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE models (
        id text PRIMARY KEY,
        name text NOT NULL,
        version text NOT NULL,
        path text NOT NULL,
        manifest jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS models`);
    await q.query(`DROP TABLE IF EXISTS operator_credentials`);
    await q.query(`DROP TABLE IF EXISTS devices`);
    await q.query(`DROP TABLE IF EXISTS device_profiles`);
  }
}
