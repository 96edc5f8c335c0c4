import fs from 'node:fs';
import path from 'node:path';
import { sampleSections, type DeviceList, type SessionEventsPage } from '@ddnn/contracts';
import { writeSynthDataset } from '@ddnn/datasets';
import { type ApiProcess, createTestDatabase, deviceMain, type RunningProcess, startApi, startNode, tempDir, type TestDatabase, waitFor, writeUntrainedCheckpoint } from '@ddnn/testing';

const ADMIN = 'e2e-operator-token-0123456789';

describe('a device agent restarted during a stream (real processes, real Postgres)', () => {
  let db: TestDatabase;
  let dataDir: string;
  let api: ApiProcess;
  const agents: RunningProcess[] = [];

  const rest = async <T>(method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${api.url}/api${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const startAgent = (name: string, view: number, extra: string[] = []) => {
    const args = ['--server', api.url, '--name', name, '--view', String(view), '--data', path.join(dataDir, 'datasets'), '--state', path.join(dataDir, 'agents', `${name}.json`), ...extra];
    const p = startNode(deviceMain, args, {});
    agents.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = tempDir('ddnn-e2e-reconnect-');
    await writeUntrainedCheckpoint(path.join(dataDir, 'model'));
    await writeSynthDataset(path.join(dataDir, 'datasets', 'synth'), { samples: 12, views: 6, seed: 5 });
    api = await startApi({ DATABASE_URL: db.url, DDNN_DATA_DIR: dataDir, DDNN_ADMIN_TOKEN: ADMIN, DDNN_DEFAULT_MODEL_DIR: path.join(dataDir, 'model') });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await api?.stop('SIGTERM');
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('scores with its section from its first request after each restart: it is redeployed before it is asked', async () => {
    const profileKey = (await rest<{ provisioningKey: string }>('POST', '/profiles', { name: 'cameras' })).body.provisioningKey;
    startAgent('cam-0', 0, ['--profile-key', profileKey]);
    let cam1 = startAgent('cam-1', 1, ['--profile-key', profileKey]);
    const devices = await waitFor('two active devices', async () => {
      const list = (await rest<DeviceList>('GET', '/devices?active=true')).body;
      return list.total === 2 ? list.items : undefined;
    });
    const id = (name: string) => devices.find((d) => d.name === name)?.id as string;
    const stream = await rest<{ id: string }>('POST', '/streams', {
      modelId: 'default',
      topology: { devices: [{ deviceId: id('cam-0'), view: 0 }, { deviceId: id('cam-1'), view: 1 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      rate: 10,
      deadlineMs: 2000,
      replay: { dataset: 'synth', split: 'test' },
    });
    expect(stream.status).toBe(201);
    const events = async () => {
      const out: SessionEventsPage['events'] = [];
      for (let after = ''; ; ) {
        const page = (await rest<SessionEventsPage>('GET', `/streams/${stream.body.id}/events?limit=1000${after ? `&after=${after}` : ''}`)).body;
        out.push(...page.events);
        after = page.checkpoint ?? after;
        if (!page.hasMore) return out;
      }
    };
    const scoredBy = async (deviceId: string) =>
      (await events()).flatMap((e) => {
        const x = sampleSections(e);
        return x?.sections.some((s) => s.tier === 'device' && s.node === deviceId) ? [x.sampleIndex] : [];
      });
    await waitFor('cam-1 scoring the stream', async () => ((await scoredBy(id('cam-1'))).length >= 3 ? true : undefined), 60_000);

    // Killed and started again with its saved identity, twice: a new process with no section on a new connection.
    for (let restart = 0; restart < 2; restart++) {
      await cam1.stop('SIGKILL');
      const since = Math.max(-1, ...(await scoredBy(id('cam-1'))));
      cam1 = startAgent('cam-1', 1);
      await waitFor('cam-1 scoring again', async () => ((await scoredBy(id('cam-1'))).filter((i) => i > since).length >= 3 ? true : undefined), 60_000);
      // Its section came first: it was never asked to score a sample it had no section for (that sample used to miss it).
      expect(cam1.output()).toMatch(/installed device-1 of model default/);
      expect(cam1.output()).not.toMatch(/no model section installed/);
    }
    expect((await rest('POST', `/streams/${stream.body.id}/stop`)).status).toBe(200);
    const noSection = (await events()).filter((e) => e.type === 'DeviceMissed' && /no model section installed/.test(String(e.data.detail)));
    expect(noSection).toEqual([]);
  }, 240_000);
});
