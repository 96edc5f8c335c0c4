import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CreateSessionRequest, DeviceList, SessionEventsPage, SessionView, StoredEvent } from '@ddnn/contracts';
import { type ApiProcess, cliMain, createTestDatabase, repoRoot, startApi, tempDir, type TestDatabase, waitFor } from '@ddnn/testing';
import { e2eModelDir } from '../support/models';

const TOKEN = 'e2e-operator-token-takeover-0123';
const DATASET = 'synthetic-multicam-seed1';


describe('a session whose node dies', () => {
  let db: TestDatabase;
  let work: string;
  let env: Record<string, string>;
  const nodes: ApiProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    work = tempDir('ddnn-e2e-takeover-');
    const data = path.join(work, 'data');
    execFileSync(process.execPath, [cliMain, 'dataset', 'synth', '--out', path.join(data, 'datasets', DATASET)], { cwd: repoRoot, stdio: 'ignore' });
    env = {
      DATABASE_URL: db.url,
      DDNN_DATA_DIR: data,
      DDNN_DEFAULT_MODEL_DIR: e2eModelDir(),
      DDNN_ADMIN_TOKEN: TOKEN,
      DDNN_SIMULATED_DEVICES: '6',
      DDNN_DEMO: 'false',
      DDNN_SESSION_POLL_MS: '200',
    };
  }, 600_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    await db?.drop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('is taken over by the next node, which resumes from the log without repeating or losing a sample', async () => {
    const first = await startApi(env);
    nodes.push(first);
    const call = async <T>(api: ApiProcess, method: string, route: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${api.url}${route}`, {
        method,
        headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const devices = await waitFor('six simulated devices', async () => {
      const list = await call<DeviceList>(first, 'GET', '/api/devices?simulated=true&active=true&limit=50');
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
      rate: 15,
    };
    const { id } = await call<{ id: string }>(first, 'POST', '/api/sessions', spec);
    await waitFor('30 samples on the first node', async () => ((await call<SessionView>(first, 'GET', `/api/sessions/${id}`)).samplesDone >= 30 ? true : undefined));
    await first.stop('SIGKILL');

    // The next node reuses the same simulated devices (same ids), finds the session unowned and resumes it.
    const second = await startApi(env);
    nodes.push(second);
    const done = await waitFor(
      'the session to complete on the second node',
      async () => {
        const v = await call<SessionView>(second, 'GET', `/api/sessions/${id}`);
        if (v.status === 'failed' || v.status === 'stopped') throw new Error(`session ended ${v.status}: ${v.error}`);
        return v.status === 'completed' ? v : undefined;
      },
      120_000,
    );
    expect(done.samplesDone).toBe(171);

    const events: StoredEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await call<SessionEventsPage>(second, 'GET', `/api/sessions/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
      events.push(...page.events);
      after = page.checkpoint ?? undefined;
      if (!page.hasMore) break;
    }
    const started = events.filter((e) => e.type === 'SampleStarted').map((e) => (e.data as { sampleIndex: number }).sampleIndex);
    expect(started).toHaveLength(171);
    expect(new Set(started).size).toBe(171);
    expect(events.filter((e) => e.type === 'SessionStarted')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'SessionCompleted')).toHaveLength(1);
    // Each sample is logged whole: one final (non-shadow, answering) exit per sample.
    const decided = events.filter((e) => e.type === 'ExitDecided' && !(e.data as { shadow: boolean }).shadow && (e.data as { exited: boolean }).exited);
    expect(decided).toHaveLength(171);
    expect(second.output()).toMatch(/resuming with \d+ of 171 samples left/);
  });
});
