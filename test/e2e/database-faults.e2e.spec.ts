import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import {
  LIVE_NAMESPACE,
  LiveEvents,
  type CreateSessionRequest,
  type DeviceList,
  type LiveEventMessage,
  type LiveSubscribeAck,
  type SessionEventsPage,
  type SessionView,
  type StoredEvent,
} from '@ddnn/contracts';
import { e2eModelDir } from '../support/models';
import { ownPostgres, type OwnPostgres } from '../support/postgres-server';
import { cliMain, repoRoot, startApi, tempDir, waitFor, type ApiProcess } from '@ddnn/testing';

const TOKEN = 'e2e-operator-token-db-faults-0123';
const DATASET = 'synthetic-multicam-seed1';

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

async function request(api: ApiProcess, method: string, route: string, body?: unknown): Promise<Response> {
  return fetch(`${api.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function call<T>(api: ApiProcess, method: string, route: string, body?: unknown): Promise<T> {
  const res = await request(api, method, route, body);
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

describe('database faults under a running session (built API, a PostgreSQL server of the test)', () => {
  let pg: OwnPostgres;
  let work: string;
  let api: ApiProcess | undefined;
  let feed: Socket | undefined;

  beforeAll(async () => {
    pg = await ownPostgres();
    work = tempDir('ddnn-e2e-dbfaults-');
    const data = path.join(work, 'data');
    execFileSync(process.execPath, [cliMain, 'dataset', 'synth', '--out', path.join(data, 'datasets', DATASET)], { cwd: repoRoot, stdio: 'ignore' });
    api = await startApi({
      DATABASE_URL: pg.url,
      DDNN_DATA_DIR: data,
      DDNN_DEFAULT_MODEL_DIR: e2eModelDir(),
      DDNN_ADMIN_TOKEN: TOKEN,
      DDNN_SIMULATED_DEVICES: '6',
      DDNN_SESSION_POLL_MS: '200',
      DDNN_DB_OUTAGE_LIMIT_MS: '2000',
    });
  }, 600_000);

  afterAll(async () => {
    feed?.close();
    await api?.stop('SIGKILL');
    await pg?.destroy();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('survives 20 cuts of its pool and a server restart: 503 while down, the session resumes and completes, the live feed reconnects', async () => {
    const node = api as ApiProcess;
    const devices = await waitFor('six simulated devices', async () => {
      const list = await call<DeviceList>(node, 'GET', '/api/devices?simulated=true&active=true&limit=50');
      return list.items.length === 6 ? list.items : undefined;
    });
    const spec: CreateSessionRequest = {
      modelId: 'default',
      dataset: DATASET,
      split: 'test',
      topology: { devices: devices.map((d) => ({ deviceId: d.id, view: d.view as number })) },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      mode: 'research',
      deadlineMs: 3000,
      rate: 12,
    };
    const { id } = await call<{ id: string }>(node, 'POST', '/api/sessions', spec);

    // The live feed: arrival time minus the event's commit time (same machine clock).
    const arrivals: { at: number; latencyMs: number }[] = [];
    feed = io(`${node.url}${LIVE_NAMESPACE}`, { auth: { token: TOKEN }, transports: ['websocket'] });
    feed.on(LiveEvents.event, (m: LiveEventMessage) => arrivals.push({ at: Date.now(), latencyMs: Date.now() - Date.parse(m.event.createdAt) }));
    await new Promise<void>((resolve) => feed!.on('connect', () => resolve()));
    expect((await feed.emitWithAck(LiveEvents.subscribe, { sessionId: id })) as LiveSubscribeAck).toMatchObject({ ok: true });
    await waitFor('20 samples done', async () => ((await call<SessionView>(node, 'GET', `/api/sessions/${id}`)).samplesDone >= 20 ? true : undefined), 120_000);
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

    const done = await waitFor(
      'the session to complete after the restart',
      async () => {
        const v = await call<SessionView>(node, 'GET', `/api/sessions/${id}`);
        if (v.status === 'failed' || v.status === 'stopped') throw new Error(`session ended ${v.status}: ${v.error}`);
        return v.status === 'completed' ? v : undefined;
      },
      180_000,
    );
    expect(node.child.exitCode).toBeNull();

    const events: StoredEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await call<SessionEventsPage>(node, 'GET', `/api/sessions/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
      events.push(...page.events);
      after = page.checkpoint ?? undefined;
      if (!page.hasMore) break;
    }
    const samples = done.sampleCount as number;
    const started = events.filter((e) => e.type === 'SampleStarted').map((e) => (e.data as { sampleIndex: number }).sampleIndex);
    expect(started).toHaveLength(samples);
    expect(new Set(started).size).toBe(samples);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
    expect(events.filter((e) => e.type === 'SessionStarted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'SessionAborted')).toHaveLength(0);
    const decided = events.filter((e) => e.type === 'ExitDecided' && !(e.data as { shadow: boolean }).shadow && (e.data as { exited: boolean }).exited);
    expect(decided).toHaveLength(samples);
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
    await waitFor('the embedded server to be back', async () => ((await request(node, 'GET', '/api/sessions')).status === 200 ? true : undefined), 60_000);
    process.stdout.write(`embedded PostgreSQL back ${Date.now() - t0} ms after SIGKILL\n`);
    expect(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0])).not.toBe(pid);
    expect(node.child.exitCode).toBeNull();
    expect(node.output()).toMatch(/embedded PostgreSQL restarted/);
  });
});
