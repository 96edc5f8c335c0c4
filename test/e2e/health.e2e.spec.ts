import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { HealthResponse } from '@ddnn/contracts';
import { apiMain, createTestDatabase, startApi, startNode, tempDir, type TestDatabase } from '@ddnn/testing';

function postgresProcessesFor(dataDir: string): string[] {
  const out = execSync('ps -eo pid,args', { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dataDir) && l.includes('postgres'));
}

describe('the built API', () => {
  describe('against an external database (DATABASE_URL)', () => {
    let db: TestDatabase;
    beforeAll(async () => (db = await createTestDatabase()));
    afterAll(() => db.drop());

    it('reports up, serves the OpenAPI docs, refuses unknown routes and stops cleanly on SIGTERM', async () => {
      const admin = 'e2e-operator-token-0123456789';
      const api = await startApi({ DATABASE_URL: db.url, DDNN_ADMIN_TOKEN: admin });
      // Anyone sees up or down and the version; the details are for the operator token.
      const health = (await (await fetch(`${api.url}/api/health`)).json()) as HealthResponse;
      expect(Object.keys(health).sort()).toEqual(['status', 'uptimeSeconds', 'version']);
      expect(health.status).toBe('up');
      expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
      const withBadToken = (await (await fetch(`${api.url}/api/health`, { headers: { authorization: 'Bearer nope' } })).json()) as HealthResponse;
      expect(withBadToken.details).toBeUndefined();
      const detailed = (await (await fetch(`${api.url}/api/health`, { headers: { authorization: `Bearer ${admin}` } })).json()) as HealthResponse;
      expect(detailed).toMatchObject({ status: 'up', details: { database: { status: 'up', embedded: false } } });

      const docs = await fetch(`${api.url}/api/docs-json`);
      expect(docs.status).toBe(200);
      expect(((await docs.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty('/api/health');

      const missing = await fetch(`${api.url}/api/no-such-thing`);
      expect(missing.status).toBe(404);

      expect(await api.stop('SIGTERM')).toBe(0);
      expect(api.output()).not.toMatch(/postgres:\/\/[^@\s]*:[^@\s]*@/); // no credentials in the logs
    });
  });

  describe('with no database configured (embedded PostgreSQL)', () => {
    it('starts its own server, keeps the data across restarts and leaves no process behind', async () => {
      const dataDir = tempDir('ddnn-e2e-data-');
      const pgDir = path.join(dataDir, 'postgres');
      try {
        const first = await startApi({ DATABASE_URL: undefined, DDNN_DATA_DIR: dataDir });
        const admin = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
        const health = (await (await fetch(`${first.url}/api/health`, { headers: { authorization: `Bearer ${admin}` } })).json()) as HealthResponse;
        expect(health).toMatchObject({ status: 'up', details: { database: { status: 'up', embedded: true } } });
        expect(fs.existsSync(path.join(pgDir, 'PG_VERSION'))).toBe(true);
        expect(postgresProcessesFor(pgDir).length).toBeGreaterThan(0);
        expect(await first.stop('SIGINT')).toBe(0);
        expect(postgresProcessesFor(pgDir)).toEqual([]);

        const second = await startApi({ DATABASE_URL: undefined, DDNN_DATA_DIR: dataDir });
        expect(second.output()).not.toMatch(/initialising a new database cluster/);
        expect(await second.stop('SIGTERM')).toBe(0);
        expect(postgresProcessesFor(pgDir)).toEqual([]);
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  it('refuses to start with a bad configuration value and names it', async () => {
    const proc = startNode(apiMain, [], { PORT: 'eighty', DATABASE_URL: 'mysql://nope' });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/PORT="eighty"/);
    expect(proc.output()).toMatch(/DATABASE_URL="mysql:\/\/nope": must be a postgres:\/\/ URL/);
  });
});
