import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
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
    // The trim goes through the log a chunk at a time in (type, position) order; the events of its last type are
    // held here (row locks), so the node is certain to be midway when it dies, whatever this machine's speed.
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    const { rowCount: held } = await holder.query('SELECT 1 FROM events WHERE stream_id = $1 AND type = (SELECT max(type) FROM events WHERE stream_id = $1) FOR UPDATE', [stream]);
    expect(held).toBeGreaterThan(0);
    try {
      expect((await call(first, 'DELETE', `/sessions/${id}`)).status).toBe(202);
      // Marked from the 202 on: the run says so.
      const view = (await (await call(first, 'GET', `/sessions/${id}`)).json()) as SessionView;
      expect(view.deletingSince).not.toBeNull();
      await waitFor('the first chunks of the log to go', async () => (await left()) < logged, 60_000, 10);
      await first.stop('SIGKILL');
      expect(first.output()).toContain(`deleting session ${id}`);
      expect(first.output()).not.toContain(`deleted session ${id}`);
      expect(await left()).toBeGreaterThanOrEqual(held ?? 1);
    } finally {
      // (The dead node's last statement, waiting for these rows, may still delete its chunk once they are free.)
      await holder.query('ROLLBACK');
      await holder.end();
    }
    // The run is left marked, its row there.
    const { rows: marked } = await pool!.query('SELECT 1 FROM sessions WHERE id = $1 AND deletion_requested_at IS NOT NULL', [id]);
    expect(marked).toHaveLength(1);

    const second = await startApi(env({ DDNN_RUN_DELETION_RESUME_MS: '500' }));
    nodes.push(second);
    await waitFor('the next node to finish the deletion', async () => (await call(second, 'GET', `/sessions/${id}`)).status === 404, 120_000, 100);
    expect(await left()).toBe(0);
    const { rows } = await pool!.query<{ events: number; node: string }>(
      `SELECT (data->>'events')::int AS events, metadata->>'node' AS node FROM events WHERE type = 'RunDeleted' AND data->>'runId' = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].events).toBe(logged);
    expect(second.output()).toContain(`resuming the deletion of session ${id}`);
    expect(second.output()).toMatch(new RegExp(`deleted session ${id} \\(${logged} events logged, \\d+ deleted ahead of its transaction\\)`));
    expect((await call(second, 'DELETE', `/sessions/${id}`)).status).toBe(204);
  });
});
