import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import {
  LIVE_NAMESPACE,
  LiveEvents,
  type LiveEventMessage,
  type LiveSubscribeAck,
} from '@ddnn/contracts';

import { ownPostgres, type OwnPostgres } from '../support/postgres-server';
import {
  answeringExits,
  type ApiProcess,
  bootPlatform,
  operatorClient,
  type Platform,
  readSessionEvents,
  researchSession,
  startApi,
  tempDir,
  waitFor,
  waitForDevices,
  waitForSamples,
  waitForSessionCompleted,
} from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-db-faults-0123';
const op = operatorClient(TOKEN);
const { request } = op;

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

describe('database faults under a running session (built API, a PostgreSQL server of the test)', () => {
  let pg: OwnPostgres;
  let platform: Platform | undefined;
  let api: ApiProcess | undefined;
  let feed: Socket | undefined;

  beforeAll(async () => {
    pg = await ownPostgres();
    platform = await bootPlatform({
      name: 'dbfaults',
      token: TOKEN,
      databaseUrl: pg.url,
      env: { DDNN_SIMULATED_DEVICES: '6', DDNN_DB_OUTAGE_LIMIT_MS: '2000' },
    });
    api = await platform.start();
  }, 600_000);

  afterAll(async () => {
    feed?.close();
    await platform?.teardown();
    await pg?.destroy();
  });

  it('survives 20 cuts of its pool and a server restart: 503 while down, the session resumes and completes, the live feed reconnects', async () => {
    const node = api as ApiProcess;
    const spec = researchSession(await waitForDevices(op, node, 6), { rate: 12 });
    const { id } = await op.call<{ id: string }>(node, 'POST', '/api/sessions', spec);

    // The live feed: arrival time minus the event's commit time (same machine clock).
    const arrivals: { at: number; latencyMs: number }[] = [];
    feed = io(`${node.url}${LIVE_NAMESPACE}`, { auth: { token: TOKEN }, transports: ['websocket'] });
    feed.on(LiveEvents.event, (m: LiveEventMessage) => arrivals.push({ at: Date.now(), latencyMs: Date.now() - Date.parse(m.event.createdAt) }));
    await new Promise<void>((resolve) => feed!.on('connect', () => resolve()));
    expect((await feed.emitWithAck(LiveEvents.subscribe, { sessionId: id })) as LiveSubscribeAck).toMatchObject({ ok: true });
    await waitForSamples(op, node, id, 20);
    const beforeFaults = arrivals.map((a) => a.latencyMs);

    // 1. Twenty cuts of every connection of the API's pool (and its LISTEN), 150 ms apart, under requests.
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    const statuses: number[] = [];
    let cutting = true;
    const load = (async () => {
      while (cutting) {
        statuses.push((await request(node, 'GET', `/api/sessions/${id}`)).status);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    let cut = 0;
    for (let i = 0; i < 20; i++) {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name LIKE 'ddnn-api%' AND pid <> pg_backend_pid()`,
      );
      cut += rows[0].n;
      await new Promise((r) => setTimeout(r, 150));
    }
    cutting = false;
    await load;
    await admin.end();
    expect(cut).toBeGreaterThanOrEqual(20);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(node.child.exitCode).toBeNull();

    // 2. The server goes away for longer than the outage limit (2 s), then comes back on the same port.
    await pg.stop();
    const down = [await request(node, 'GET', `/api/sessions/${id}`), await request(node, 'GET', '/api/sessions')];
    const downBodies = await Promise.all(down.map((r) => r.text()));
    await new Promise((r) => setTimeout(r, 4000));
    await pg.start();
    const backAt = Date.now();
    expect(down.map((r) => r.status)).toEqual([503, 503]);
    for (const b of downBodies) expect(b).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|postgres:\/\//);

    const done = await waitForSessionCompleted(op, node, id, 180_000);
    expect(node.child.exitCode).toBeNull();

    const events = await readSessionEvents(op, node, id);
    const samples = done.sampleCount as number;
    const started = events.filter((e) => e.type === 'SampleStarted').map((e) => (e.data as { sampleIndex: number }).sampleIndex);
    expect(started).toHaveLength(samples);
    expect(new Set(started).size).toBe(samples);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(events.filter((e) => e.type === 'SessionStarted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'SessionAborted')).toHaveLength(0);
    expect(answeringExits(events)).toHaveLength(samples);
    expect(node.output()).toMatch(/interrupted \(it resumes when the database is back\)|resuming with \d+ of \d+ samples left/);

    // The feed's LISTEN is open again: events after the restart arrive by NOTIFY, not by the 1 s poll.
    const afterRestart = arrivals.filter((a) => a.at > backAt + 2000).map((a) => a.latencyMs);
    process.stdout.write(
      `db faults: ${cut} connections cut, ${statuses.length} requests (${statuses.filter((s) => s === 503).length} answered 503), ` +
        `live latency median/p95 ${quantile(beforeFaults, 0.5)}/${quantile(beforeFaults, 0.95)} ms before, ` +
        `${quantile(afterRestart, 0.5)}/${quantile(afterRestart, 0.95)} ms after the restart (${afterRestart.length} events)\n`,
    );
    expect(afterRestart.length).toBeGreaterThan(100);
    expect(quantile(afterRestart, 0.5)).toBeLessThan(250);
  });
});

describe('the embedded PostgreSQL the API owns (built API, embedded mode)', () => {
  let api: ApiProcess | undefined;
  let work: string;

  afterAll(async () => {
    await api?.stop('SIGTERM');
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('is restarted by the API when it dies, and requests work again', async () => {
    work = tempDir('ddnn-e2e-embedded-');
    api = await startApi({ DATABASE_URL: undefined, DDNN_DATA_DIR: work, DDNN_ADMIN_TOKEN: TOKEN, DDNN_DEFAULT_MODEL_DIR: path.join(work, 'none') });
    const node = api;
    expect((await request(node, 'GET', '/api/sessions')).status).toBe(200);
    const pidFile = path.join(work, 'postgres', 'postmaster.pid');
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    const t0 = Date.now();
    // Backends of a killed postmaster can answer a query or two before they notice: "back" means a new postmaster
    // (another pid in its pid file) that answers.
    const postmaster = () => {
      try {
        return Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
      } catch {
        return null;
      }
    };
    await waitFor('a new embedded server', async () => (postmaster() !== null && postmaster() !== pid ? true : undefined), 60_000);
    await waitFor('the embedded server to answer', async () => ((await request(node, 'GET', '/api/sessions')).status === 200 ? true : undefined), 60_000);
    process.stdout.write(`embedded PostgreSQL back ${Date.now() - t0} ms after SIGKILL\n`);
    expect(node.child.exitCode).toBeNull();
    expect(node.output()).toMatch(/embedded PostgreSQL restarted/);
  });
});
