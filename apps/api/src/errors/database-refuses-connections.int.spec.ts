import { Client } from 'pg';
import { testServerUrl, waitFor } from '@ddnn/testing';
import { call, startTestApi, type TestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';
const UNAVAILABLE = { statusCode: 503, message: 'the database is unavailable: retry later', error: 'Service Unavailable' };

/** A database that refuses new connections (ALLOW_CONNECTIONS false, as during a restore) once its open ones are cut. */
describe('a database that refuses connections (real Postgres)', () => {
  let api: TestApi;
  let admin: Client;

  beforeAll(async () => {
    api = await startTestApi({ DDNN_ADMIN_TOKEN: ADMIN });
    // On the server's maintenance database: the test database is the one refusing.
    admin = new Client({ connectionString: testServerUrl() });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await admin.query(`ALTER DATABASE "${api.db.name}" ALLOW_CONNECTIONS true`);
    await admin.end();
    await api.close();
  });

  it('answers 503 with the documented body while refused, 200 again once connections are allowed', async () => {
    expect((await call(api, 'GET', '/streams', ADMIN)).status).toBe(200);
    // The test's own SQL client stays: it has no error listener, and the API's connections are the ones under test.
    const [{ pid: keep }] = await api.sql<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await admin.query(`ALTER DATABASE "${api.db.name}" ALLOW_CONNECTIONS false`);
    // A backend that was starting as connections were closed may have passed the check and missed the first
    // round: terminate until none of the API's is left.
    await waitFor('no connection of the API left', async () => {
      const { rows } = await admin.query<{ n: string }>(
        'SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> $2 AND backend_type = $3',
        [api.db.name, keep, 'client backend'],
      );
      return rows[0].n === '0';
    }, 30_000, 50);

    // A pooled connection cut while idle may fail the first request as "terminated" (503 already): the ones after
    // it open new connections, which the server refuses.
    const refused = await waitFor('a refused request', async () => {
      const r = await call(api, 'GET', '/streams', ADMIN);
      return r.status !== 200 && r;
    });
    expect(refused).toEqual({ status: 503, body: UNAVAILABLE });
    for (const route of ['/sessions', '/streams', '/devices']) expect(await call(api, 'GET', route, ADMIN)).toEqual({ status: 503, body: UNAVAILABLE });

    await admin.query(`ALTER DATABASE "${api.db.name}" ALLOW_CONNECTIONS true`);
    expect((await waitFor('the database back', async () => (await call(api, 'GET', '/streams', ADMIN)).status === 200 || false))).toBe(true);
  });
});
