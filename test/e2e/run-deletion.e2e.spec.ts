import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { NewEvent, SessionView } from '@ddnn/contracts';
import { streamIds } from '@ddnn/contracts';
import { EventStore } from '@ddnn/events';
import { syntheticSessionEvents } from '@ddnn/policies';
import { type ApiProcess, createTestDatabase, startApi, tempDir, type TestDatabase, waitFor } from '@ddnn/testing';

const TOKEN = 'e2e-deletion-operator-token-0123';
/** ~6 events a sample: a log of several trim chunks (5,000 events each), seconds to delete. */
const SAMPLES = 12_000;

describe('deleting a long run whose node dies midway (real Postgres, built API)', () => {
  let db: TestDatabase;
  let pool: Pool | undefined;
  const nodes: ApiProcess[] = [];
  const id = randomUUID();
  const stream = streamIds.session(id);
  let logged = 0;
  const call = (node: ApiProcess, method: string, path: string) => fetch(`${node.url}/api${path}`, { method, headers: { Authorization: `Bearer ${TOKEN}` } });
  const left = async () => Number((await pool!.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE stream_id = $1', [stream])).rows[0].n);
  const env = (extra: Record<string, string>) => ({ DATABASE_URL: db.url, DDNN_ADMIN_TOKEN: TOKEN, DDNN_DATA_DIR: tempDir('ddnn-e2e-deletion-'), ...extra });

  beforeAll(async () => {
    db = await createTestDatabase();
    // Every DELETE answers at once (202) and leaves the work to the node.
    nodes.push(await startApi(env({ DDNN_RUN_DELETION_WAIT_MS: '0' })));
    pool = new Pool({ connectionString: db.url, max: 2 });
    const spec = { modelId: 'm1', topology: { devices: [{ deviceId: 'd0', view: 0 }] }, policy: { kind: 'entropy', thresholds: { local: 0.8 } }, mode: 'research', deadlineMs: 200 };
    await pool.query(`INSERT INTO sessions (id, kind, status, spec, model_id, dataset, split, mode) VALUES ($1, 'session', 'completed', $2, 'm1', 'synth', 'test', 'research')`, [
      id,
      JSON.stringify(spec),
    ]);
    const events = syntheticSessionEvents({ sessionId: id, samples: SAMPLES, seed: 3 });
    const store = new EventStore(pool);
    for (let i = 0; i < events.length; i += 5000) {
      await store.appendToStream(stream, events.slice(i, i + 5000).map((e) => ({ type: e.type, data: e.data }) as NewEvent));
    }
    logged = events.length;
  }, 300_000);

  afterAll(async () => {
    for (const n of nodes) await n.stop('SIGKILL');
    await pool?.end();
    await db?.drop();
  });

  it('answers 202, and when its node is killed midway the next node finishes it: the log gone, one RunDeleted of the whole log', async () => {
    const [first] = nodes;
    expect(await left()).toBe(logged);
    expect((await call(first, 'DELETE', `/sessions/${id}`)).status).toBe(202);
    // The node deletes a chunk at a time; it dies after the first.
    await waitFor('the first chunks of the log to go', async () => (await left()) < logged, 60_000, 10);
    await first.stop('SIGKILL');
    const remaining = await left();
    expect(remaining).toBeGreaterThan(0);
    // Half deleted, and says so.
    expect(first.output()).toContain(`deleting session ${id}`);

    const second = await startApi(env({ DDNN_RUN_DELETION_RESUME_MS: '500' }));
    nodes.push(second);
    // Until it is done the run is there, marked.
    const during = await call(second, 'GET', `/sessions/${id}`);
    if (during.status === 200) expect(((await during.json()) as SessionView).deletingSince).not.toBeNull();
    else expect(during.status).toBe(404);
    await waitFor('the next node to finish the deletion', async () => (await call(second, 'GET', `/sessions/${id}`)).status === 404, 120_000, 100);
    expect(await left()).toBe(0);
    const { rows } = await pool!.query<{ events: number; node: string }>(
      `SELECT (data->>'events')::int AS events, metadata->>'node' AS node FROM events WHERE type = 'RunDeleted' AND data->>'runId' = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].events).toBe(logged);
    expect(second.output()).toMatch(new RegExp(`deleted session ${id} \\(${logged} events logged, \\d+ deleted ahead of its transaction\\)`));
    expect((await call(second, 'DELETE', `/sessions/${id}`)).status).toBe(204);
  });
});
