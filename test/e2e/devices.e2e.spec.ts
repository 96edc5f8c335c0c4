import fs from 'node:fs';
import path from 'node:path';
import { sampleSections, type DeviceList, type DeviceView, type SessionEventsPage, type StreamView } from '@ddnn/contracts';
import { loadDataset, writeSynthDataset } from '@ddnn/datasets';
import { type ApiProcess, createTestDatabase, deviceMain, type RunningProcess, startApi, startNode, tempDir, type TestDatabase, waitFor, writeUntrainedCheckpoint } from '@ddnn/testing';

const ADMIN = 'e2e-operator-token-0123456789';

describe('device agents as real processes against the built API', () => {
  let db: TestDatabase;
  let dataDir: string;
  let api: ApiProcess;
  let profileKey: string;
  let apiEnv: Record<string, string>;
  const agents = new Map<string, RunningProcess>();

  const rest = async <T>(method: string, route: string, body?: unknown, token: string | null = ADMIN): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${api.url}/api${route}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const devices = async (query = '') => (await rest<DeviceList>('GET', `/devices?limit=500${query}`)).body;
  const deviceEvents = async (id: string) => {
    const { Client } = await import('pg');
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query<{ type: string; data: Record<string, unknown> }>('SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_position', [`device-${id}`])).rows;
    } finally {
      await c.end();
    }
  };
  const startAgent = (name: string, view: number, extra: string[] = [], env: Record<string, string> = {}) => {
    const p = startNode(deviceMain, ['--server', api.url, '--name', name, '--view', String(view), '--data', path.join(dataDir, 'datasets'), '--state', path.join(dataDir, 'agents', `${name}.json`), '--heartbeat-ms', '500', ...extra], env);
    agents.set(name, p);
    return p;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = tempDir('ddnn-e2e-devices-');
    await writeUntrainedCheckpoint(path.join(dataDir, 'model'));
    await writeSynthDataset(path.join(dataDir, 'datasets', 'synth'), { samples: 12, views: 6, seed: 5 });
    apiEnv = { DATABASE_URL: db.url, DDNN_DATA_DIR: dataDir, DDNN_ADMIN_TOKEN: ADMIN, DDNN_DEFAULT_MODEL_DIR: path.join(dataDir, 'model'), DEVICE_INACTIVE_TIMEOUT_MS: '3000' };
    api = await startApi(apiEnv);
    profileKey = (await rest<{ provisioningKey: string }>('POST', '/profiles', { name: 'cameras' })).body.provisioningKey;
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop('SIGKILL')));
    await api?.stop('SIGTERM');
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('six agents provision, connect, take their sections, serve inference, survive a kill and stop cleanly', async () => {
    for (let v = 0; v < 6; v++) startAgent(`cam-${v}`, v, ['--profile-key', profileKey]);
    const connected = await waitFor('six active devices', async () => {
      const list = await devices('&active=true');
      return list.total === 6 ? list.items : undefined;
    });
    expect(connected.map((d) => d.name).sort()).toEqual(['cam-0', 'cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5']);
    for (let v = 0; v < 6; v++) expect(fs.existsSync(path.join(dataDir, 'agents', `cam-${v}.json`))).toBe(true);

    // The default model was registered at start-up from DDNN_DEFAULT_MODEL_DIR; deploy it to every connected device.
    const deployed = await rest<{ deviceId: string; section: string; ok: boolean }[]>('POST', '/models/default/deploy', {});
    expect(deployed.status).toBe(200);
    expect(deployed.body).toHaveLength(6);
    expect(deployed.body.every((d) => d.ok)).toBe(true);
    const byName = new Map(connected.map((d) => [d.name, d] as const));
    const cam3 = byName.get('cam-3') as DeviceView;
    expect(deployed.body.find((d) => d.deviceId === cam3.id)?.section).toBe('device-3');
    expect((await deviceEvents(cam3.id)).map((e) => e.type)).toEqual(['DeviceRegistered', 'DeviceConnected', 'ModelDeployed']);

    // A sample every camera captured (a view the dataset does not hold is a skipped capture at its device).
    const ds = await loadDataset(path.join(dataDir, 'datasets', 'synth'));
    const views = ds.manifest.views;
    const sampleId = ds.sampleIds.find((_, n) => ds.present.subarray(n * views, (n + 1) * views).every((p) => p === 1));
    if (!sampleId) throw new Error('the test dataset has no sample every camera captured');
    for (const d of connected) {
      const probe = await rest<{ ok: boolean; scores: number[]; featuresBytes: number }>('POST', `/devices/${d.id}/probe`, { dataset: 'synth', sampleId });
      expect(probe.body).toMatchObject({ ok: true, featuresBytes: 128 });
      expect(probe.body.scores).toHaveLength(3);
      expect(probe.body.scores.every(Number.isFinite)).toBe(true);
    }
    const missing = await rest<{ ok: boolean; error: string }>('POST', `/devices/${cam3.id}/probe`, { dataset: 'synth', sampleId: 'no-such-sample' });
    expect(missing.body).toMatchObject({ ok: false, error: expect.stringMatching(/has no sample no-such-sample/) });

    // Heartbeats keep lastActivityAt moving.
    const before = (await rest<DeviceView>('GET', `/devices/${cam3.id}`)).body.connectivity.lastActivityAt as string;
    await waitFor('a later heartbeat', async () => {
      const now = (await rest<DeviceView>('GET', `/devices/${cam3.id}`)).body.connectivity.lastActivityAt as string;
      return now > before ? now : undefined;
    }, 10_000);

    // Killed mid-run: the server logs the disconnect and requests fail fast as not connected.
    await (agents.get('cam-3') as RunningProcess).stop('SIGKILL');
    await waitFor('DeviceDisconnected of cam-3', async () => ((await deviceEvents(cam3.id)).some((e) => e.type === 'DeviceDisconnected') ? true : undefined), 20_000);
    const dead = await rest<{ ok: boolean; error: string }>('POST', `/devices/${cam3.id}/probe`, { dataset: 'synth', sampleId });
    expect(dead.body).toMatchObject({ ok: false, error: expect.stringMatching(/not-connected/) });

    // Restarted without a profile key: it reuses its saved token (same device, no second registration).
    const again = startAgent('cam-3', 3);
    await waitFor('cam-3 back', async () => ((await rest<DeviceView>('GET', `/devices/${cam3.id}`)).body.connectivity.active ? true : undefined), 30_000);
    expect(again.output()).toMatch(/reusing the saved identity/);
    expect((await devices()).total).toBe(6);
    const redeploy = await rest<{ ok: boolean }[]>('POST', '/models/default/deploy', { devices: [{ deviceId: cam3.id }] });
    expect(redeploy.body).toEqual([expect.objectContaining({ ok: true })]);
    expect((await rest<{ ok: boolean }>('POST', `/devices/${cam3.id}/probe`, { dataset: 'synth', sampleId })).body.ok).toBe(true);

    // SIGTERM: a clean exit and a logged disconnect.
    const cam0 = byName.get('cam-0') as DeviceView;
    expect(await (agents.get('cam-0') as RunningProcess).stop('SIGTERM')).toBe(0);
    await waitFor('cam-0 inactive', async () => ((await rest<DeviceView>('GET', `/devices/${cam0.id}`)).body.connectivity.active ? undefined : true), 10_000);
    const cam0Events = (await deviceEvents(cam0.id)).map((e) => e.type);
    expect(cam0Events.slice(-1)).toEqual(['DeviceDisconnected']);
  });

  it('refuses an agent with a forged token, and a locked device until it is unlocked', async () => {
    fs.mkdirSync(path.join(dataDir, 'agents'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'agents', 'forger.json'), JSON.stringify({ server: api.url, name: 'forger', deviceId: '00000000-0000-0000-0000-000000000000', token: 'ddnn_dev_forged' }));
    const forger = startAgent('forger', 1);
    expect(await forger.exited).toBe(1);
    // Its made-up device id names no device here.
    expect(forger.output()).toMatch(/device 00000000-0000-0000-0000-000000000000 is not registered on http:\/\/127\.0\.0\.1:\d+: an operator deleted it/);

    const cam1 = (await devices('&name=cam-1')).items[0];
    await rest('PATCH', `/devices/${cam1.id}`, { adminState: 'locked' });
    await waitFor('cam-1 kicked off', async () => ((await rest<DeviceView>('GET', `/devices/${cam1.id}`)).body.connectivity.active ? undefined : true), 10_000);
    const agent = agents.get('cam-1') as RunningProcess;
    await waitFor('the agent to see the refusal', async () => (/locked by an operator/.test(agent.output()) ? true : undefined), 20_000);
    expect(agent.child.exitCode).toBeNull();
    await rest('PATCH', `/devices/${cam1.id}`, { adminState: 'unlocked' });
    await waitFor('cam-1 reconnected after unlock', async () => ((await rest<DeviceView>('GET', `/devices/${cam1.id}`)).body.connectivity.active ? true : undefined), 30_000);
  });

  it('an agent whose token an operator rotated or whose device was deleted stops, instead of coming back as a new device', async () => {
    // It keeps its provisioning key (in the environment, as a service would), which used to bring it back under a new id.
    const env = { DDNN_PROFILE_KEY: profileKey };
    const first = startAgent('rotated', 2, [], env);
    await waitFor('rotated active', async () => ((await devices('&name=rotated&active=true')).total === 1 ? true : undefined), 30_000);
    const id = (await devices('&name=rotated')).items[0].id;
    const rotated = await rest<{ deviceId: string; token: string }>('POST', `/devices/${id}/rotate-token`);
    expect(rotated.status).toBe(201);
    expect(await first.exited).toBe(1);
    expect(first.output()).toMatch(new RegExp(`an operator revoked or rotated it \\(device ${id}\\)\\. Start this agent with the token POST /api/devices/${id}/rotate-token issued: --token`));
    expect(first.output().match(/provisioned rotated/g)).toHaveLength(1);
    expect((await devices('&name=rotated')).total).toBe(1);

    // Given the new token once, it is the same device again, and the token is saved for the next start.
    const second = startAgent('rotated', 2, [], { ...env, DDNN_DEVICE_TOKEN: rotated.body.token });
    await waitFor('rotated back with its new token', async () => ((await rest<DeviceView>('GET', `/devices/${id}`)).body.connectivity.active ? true : undefined), 30_000);
    await waitFor('the token saved', async () => (/the token given with --token is saved/.test(second.output()) ? true : undefined), 10_000);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'agents', 'rotated.json'), 'utf8'))).toMatchObject({ deviceId: id, token: rotated.body.token });
    expect(await second.stop('SIGTERM')).toBe(0);
    const third = startAgent('rotated', 2, [], env);
    await waitFor('rotated back with the saved token', async () => ((await rest<DeviceView>('GET', `/devices/${id}`)).body.connectivity.active ? true : undefined), 30_000);
    expect(third.output()).toMatch(/reusing the saved identity/);

    // Deleted: decommissioned, so it stops and says how to come back as a new device.
    expect((await rest('DELETE', `/devices/${id}`)).status).toBe(204);
    expect(await third.exited).toBe(1);
    expect(third.output()).toMatch(new RegExp(`device ${id} is not registered on .*: an operator deleted it\\. To bring this agent back as a new device, delete .*rotated\\.json and start it with --profile-key`));
    expect((await devices('&name=rotated')).total).toBe(0);
  });

  it('two agents with one identity do not take turns forever: the one replaced backs off and says why', async () => {
    // Its key from the environment, where ps does not show it.
    const original = startAgent('twin', 4, [], { DDNN_PROFILE_KEY: profileKey });
    await waitFor('twin active', async () => ((await devices('&name=twin&active=true')).total === 1 ? true : undefined), 30_000);
    const id = (await devices('&name=twin')).items[0].id;
    const connects = async () => (await deviceEvents(id)).filter((e) => e.type === 'DeviceConnected').length;
    const before = await connects();
    // A second process with a copy of its state file (a cloned SD card), so the same token.
    const copy = path.join(dataDir, 'agents', 'twin-copy.json');
    fs.copyFileSync(path.join(dataDir, 'agents', 'twin.json'), copy);
    const clone = startNode(deviceMain, ['--server', api.url, '--name', 'twin', '--view', '4', '--data', path.join(dataDir, 'datasets'), '--state', copy, '--heartbeat-ms', '500'], {});
    agents.set('twin-copy', clone);
    await waitFor('one of them to give way', async () => (/took its place/.test(original.output() + clone.output()) ? true : undefined), 20_000);
    // They used to replace each other about twice a second, each time a DeviceConnected in the device's log.
    await new Promise((r) => setTimeout(r, 6000));
    expect((await connects()) - before).toBeLessThanOrEqual(2);
    expect(original.output() + clone.output()).toMatch(/another agent connected as this device \(.+\) and took its place: two agents must not share one identity .*Trying again in 30 s/);
    expect((await devices('&name=twin')).total).toBe(1);
  });

  it('an agent restarted before its old connection was found dead gets its section again, and its stream scores with it', async () => {
    // cam-1 and cam-2 (from the first test, with their sections) serve a stream replaying the dataset.
    const byName = new Map((await devices('&name=cam-')).items.map((d) => [d.name, d] as const));
    const cam1 = byName.get('cam-1') as DeviceView;
    const cam2 = byName.get('cam-2') as DeviceView;
    const stream = await rest<{ id: string }>('POST', '/streams', {
      modelId: 'default', topology: { devices: [{ deviceId: cam1.id, view: 1 }, { deviceId: cam2.id, view: 2 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } }, rate: 4, deadlineMs: 2000, replay: { dataset: 'synth', split: 'test' }, name: 'reboot',
    });
    expect(stream.status).toBe(201);
    const scoredBy = async (deviceId: string): Promise<number[]> => {
      const out: number[] = [];
      for (let after = ''; ; ) {
        const page = (await rest<SessionEventsPage>('GET', `/streams/${stream.body.id}/events?limit=1000${after ? `&after=${after}` : ''}`)).body;
        for (const e of page.events) {
          const x = sampleSections(e);
          if (x?.sections.some((d) => d.tier === 'device' && d.node === deviceId)) out.push(x.sampleIndex);
        }
        after = page.checkpoint ?? after;
        if (!page.hasMore) return out;
      }
    };
    await waitFor('cam-1 scoring the stream', async () => ((await scoredBy(cam1.id)).length >= 3 ? true : undefined), 60_000);
    const connects = async () => (await deviceEvents(cam1.id)).filter((e) => e.type === 'DeviceConnected').length;
    const connectsBefore = await connects();

    // Frozen (a hung device), then started again with the same state (a reboot, a Wi-Fi roam): its new connection
    // replaces the old one before the server found that one dead. Then the frozen process dies.
    const frozen = agents.get('cam-1') as RunningProcess;
    process.kill(frozen.child.pid as number, 'SIGSTOP');
    const rebooted = startAgent('cam-1', 1);
    await waitFor('the new connection of cam-1', async () => ((await connects()) > connectsBefore ? true : undefined), 30_000);
    await frozen.stop('SIGKILL');
    const since = Math.max(-1, ...(await scoredBy(cam1.id)));
    // It used to answer "no model section installed" to every request for as long as it ran.
    await waitFor('cam-1 scoring again on its new connection', async () => ((await scoredBy(cam1.id)).some((i) => i > since) ? true : undefined), 30_000);
    const log = (await deviceEvents(cam1.id)).map((e) => e.type);
    expect(log.slice(log.lastIndexOf('DeviceConnected'))).toContain('ModelDeployed');
    expect(rebooted.output()).toMatch(/connected/);
    expect((await rest('POST', `/streams/${stream.body.id}/stop`)).status).toBe(200);
  }, 120_000);

  it('a stream using a device an operator deleted resumes after a restart without waiting for it', async () => {
    // cam-1's old connection (the frozen process the last test killed) may still be going away.
    const [cam1, cam2] = await waitFor('cam-1 and cam-2 connected', async () => {
      const byName = new Map((await devices('&name=cam-&active=true')).items.map((d) => [d.name, d] as const));
      return byName.has('cam-1') && byName.has('cam-2') ? [byName.get('cam-1') as DeviceView, byName.get('cam-2') as DeviceView] : undefined;
    }, 30_000);
    const stream = await rest<{ id: string }>('POST', '/streams', {
      modelId: 'default', topology: { devices: [{ deviceId: cam1.id, view: 1 }, { deviceId: cam2.id, view: 2 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } }, rate: 4, deadlineMs: 2000, replay: { dataset: 'synth', split: 'test' }, name: 'deleted device',
    });
    expect(stream.status).toBe(201);
    const decided = async () => (await rest<StreamView>('GET', `/streams/${stream.body.id}`)).body.summary?.samplesDecided ?? 0;
    await waitFor('the stream running', async () => ((await decided()) >= 3 ? true : undefined), 60_000);
    expect((await rest('DELETE', `/devices/${cam2.id}`)).status).toBe(204);
    expect(await (agents.get('cam-2') as RunningProcess).exited).toBe(1);

    // Restarted on its port (cam-1 comes back to it), with a device wait long enough to tell a wait from none. It
    // waited the whole DDNN_DEVICE_WAIT_MS for the deleted device at every resume.
    await api.stop('SIGTERM');
    api = await startApi({ ...apiEnv, PORT: new URL(api.url).port, DDNN_DEVICE_WAIT_MS: '45000' });
    const bootedAt = Date.now();
    // The node says when it gave up waiting: at once for cam-2, as soon as cam-1 is back (its backoff is at most 10 s).
    const resumedAt = await waitFor('the stream to resume without cam-2', async () => {
      const line = api.output().split('\n').find((l) => l.includes(`stream ${stream.body.id}: running without device(s) ${cam2.id} (deleted)`));
      return line ? Date.parse((JSON.parse(line) as { time: string }).time) : undefined;
    }, 60_000, 250);
    const resumedAfterMs = resumedAt - bootedAt;
    expect(resumedAfterMs).toBeLessThan(30_000);
    const before = await decided();
    await waitFor('samples after the resume', async () => ((await decided()) > before + 2 ? true : undefined), 60_000, 250);
    process.stdout.write(`deleted device: the stream resumed ${resumedAfterMs} ms after the restart (device wait 45 s)\n`);
    expect((await rest('POST', `/streams/${stream.body.id}/stop`)).status).toBe(200);
  }, 180_000);

  it('bad options are named and exit with 2', async () => {
    const p = startNode(deviceMain, ['--server', 'not a url', '--name', 'x y', '--role', 'cloud'], {});
    expect(await p.exited).toBe(2);
    expect(p.output()).toMatch(/--server must be a URL/);
    expect(p.output()).toMatch(/--name must be/);
    expect(p.output()).toMatch(/--role must be end-device or edge/);
  });

  it('keeps retrying an unreachable server with backoff and still exits 0 on SIGTERM', async () => {
    const p = startNode(deviceMain, ['--server', 'http://127.0.0.1:9', '--profile-key', 'k', '--name', 'lonely', '--view', '0', '--data', dataDir, '--state', path.join(dataDir, 'agents', 'lonely.json')], {});
    await waitFor('two provisioning retries', async () => ((p.output().match(/cannot reach/g) ?? []).length >= 2 ? true : undefined), 20_000);
    expect(await p.stop('SIGTERM')).toBe(0);
  });
});
