import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { DeviceEvents, HandshakeRefusals, handshakeRefusal } from '@ddnn/contracts';
import { waitFor } from '@ddnn/testing';
import { checkpointRuntimeBindings, DeviceRuntime } from '@ddnn/ddnn';
import { DevicesService } from './devices.service';
import { DeviceUnavailableError, MalformedReplyError } from './transport/device-transport';
import { call, useDeviceTestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';

describe('/devices socket namespace (real Postgres, real sockets)', () => {
  const fixture = useDeviceTestApi(ADMIN, { DEVICE_INACTIVE_TIMEOUT_MS: '1000' });
  const { provision, connect } = fixture;

  /** A client that serves the protocol with the same DeviceRuntime as real agents and simulated devices. */
  async function runtimeClient(name: string, view: number, before?: (token: string) => void): Promise<{ socket: Socket; deviceId: string }> {
    const d = await provision(name, view);
    before?.(d.token);
    const socket = await connect(d.token);
    const rt = new DeviceRuntime({ role: 'end-device', view, bindings: checkpointRuntimeBindings({ dataRoot: path.join(fixture.api.dataDir, 'datasets') }) });
    socket.on(DeviceEvents.deploy, (p: unknown, ack: (r: unknown) => void) => void rt.deploy(p).then(ack));
    socket.on(DeviceEvents.infer, (p: unknown, ack: (r: unknown) => void) => void rt.infer(p).then(ack));
    await waitFor('the transport to see the device', async () => (await fixture.transport.connectedDevices()).some((c) => c.deviceId === d.deviceId));
    return { socket, deviceId: d.deviceId };
  }

  const deviceEvents = (id: string) => fixture.api.sql<{ type: string; data: Record<string, unknown> }>('SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_position', [`device-${id}`]);

  it('refuses a handshake without a token, with an unknown token and for a locked device', async () => {
    await expect(connect(undefined)).rejects.toThrow(/missing device token/);
    await expect(connect('ddnn_dev_forged')).rejects.toThrow(/unknown or revoked device token/);
    const d = await provision('locked-cam', 0);
    await call(fixture.api, 'PATCH', `/devices/${d.deviceId}`, ADMIN, { adminState: 'locked' });
    await expect(connect(d.token)).rejects.toThrow(/locked/);
    await call(fixture.api, 'POST', `/devices/${d.deviceId}/revoke-token`, ADMIN);
    await expect(connect(d.token)).rejects.toThrow(/unknown or revoked/);
  });

  it("names why a device's own token is refused when the agent names its id: revoked or rotated, deleted, or neither", async () => {
    const d = await provision('named-cam', 1);
    await call(fixture.api, 'POST', `/devices/${d.deviceId}/rotate-token`, ADMIN);
    await expect(connect(d.token, d.deviceId)).rejects.toThrow(new Error(HandshakeRefusals.revoked));
    expect(handshakeRefusal(HandshakeRefusals.revoked)).toBe('revoked');
    expect((await call(fixture.api, 'DELETE', `/devices/${d.deviceId}`, ADMIN)).status).toBe(204);
    await expect(connect(d.token, d.deviceId)).rejects.toThrow(new Error(HandshakeRefusals.deleted));
    // The id is never trusted: a forged token naming a device gets no further, and anything but a device id is ignored.
    const other = await provision('other-cam', 2);
    await expect(connect('ddnn_dev_forged', other.deviceId)).rejects.toThrow(new Error(HandshakeRefusals.revoked));
    for (const junk of ['../x', "x' OR 1=1 --", 42, { $ne: null }, 'a'.repeat(10_000)]) {
      await expect(connect('ddnn_dev_forged', junk)).rejects.toThrow(new Error(HandshakeRefusals.unknown));
    }
    // Its own token still opens the connection whatever id comes with it.
    const s = await connect(other.token, d.deviceId);
    expect(s.connected).toBe(true);
  });

  it('deploys a section (ModelDeployed), then serves scores and features through DeviceTransport', async () => {
    const { deviceId } = await runtimeClient('cam-2', 2);
    const ack = await fixture.transport.deploy(deviceId, await deployMessage('device-2'), 10_000);
    expect(ack).toMatchObject({ ok: true, modelId: 'm1', section: 'device-2' });
    const events = await deviceEvents(deviceId);
    expect(events.map((e) => e.type)).toEqual(['DeviceRegistered', 'DeviceConnected', 'ModelDeployed']);
    expect(events[2].data).toMatchObject({ deviceId, modelId: 'm1', section: 'device-2', bytes: readFileSync(path.join(fixture.api.dataDir, 'models', 'm1', 'device-2.bin')).byteLength });
    const sampleId = firstSampleId();
    const scores = await fixture.transport.request(deviceId, { stage: 'scores', sessionId: 's1', sampleIndex: 0, dataset: 'synth', sampleId }, 10_000);
    expect(scores).toMatchObject({ ok: true });
    expect((scores as { scores: Uint8Array }).scores.byteLength).toBe(12);
    const features = await fixture.transport.request(deviceId, { stage: 'features', sessionId: 's1', sampleIndex: 0 }, 10_000);
    expect(features).toMatchObject({ ok: true });
    expect((features as { features: Uint8Array }).features.byteLength).toBe(128); // 16x16x4 bits
    const device = (await call(fixture.api, 'GET', `/devices/${deviceId}`, ADMIN)).body;
    expect(device.deployed).toEqual({ modelId: 'm1', modelVersion: expect.any(String), section: 'device-2' });
    expect(device.connectivity.active).toBe(true);
  });

  it('a device the API shows as active takes a deploy at once, logged after its DeviceConnected', async () => {
    // The gateway checks the token a second time once the socket is in its room; holding that check open widens the
    // window in which the device is already active in the API but its connection is not finished. A deploy sent in
    // that window used to answer "not connected" (devices.e2e met it in CI).
    const service = fixture.api.app.get(DevicesService);
    const authenticate = service.authenticate.bind(service);
    let held = '';
    let checks = 0;
    let holding = false;
    const spy = jest.spyOn(service, 'authenticate').mockImplementation(async (token: unknown) => {
      const device = await authenticate(token);
      if (token === held && ++checks === 2) {
        holding = true;
        await new Promise((r) => setTimeout(r, 3000));
        holding = false;
      }
      return device;
    });
    try {
      let deviceId = '';
      const client = runtimeClient('eager', 1, (token) => (held = token));
      // Active in the API while the server still checks the token (what an operator sees, then deploys to).
      await waitFor('the device active in the API', async () => {
        const list = (await call(fixture.api, 'GET', '/devices?name=eager&active=true', ADMIN)).body as { items: { id: string }[] };
        deviceId = list.items[0]?.id ?? '';
        return deviceId && holding ? true : undefined;
      });
      const deployed = await call(fixture.api, 'POST', '/models/m1/deploy', ADMIN, { devices: [{ deviceId }] });
      expect(deployed.body).toEqual([expect.objectContaining({ deviceId, section: 'device-1', ok: true })]);
      // (This device sends no heartbeats, so the 1 s inactivity sweep may log DeviceWentInactive in between.)
      const types = (await deviceEvents(deviceId)).map((e) => e.type);
      expect(types.slice(0, 2)).toEqual(['DeviceRegistered', 'DeviceConnected']);
      expect(types).toContain('ModelDeployed');
      await client;
    } finally {
      spy.mockRestore();
    }
  });

  it('answers a malformed payload with a protocol error and a log line, and keeps serving', async () => {
    const d = await provision('noisy', 3);
    const s = await connect(d.token);
    const errors: unknown[] = [];
    s.on(DeviceEvents.error, (e: unknown) => errors.push(e));
    const bad = await s.timeout(5000).emitWithAck(DeviceEvents.heartbeat, { at: 'yesterday', extra: 1 });
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/heartbeat: .*at/) });
    s.emit('launch-missiles', { now: true });
    s.emit(DeviceEvents.infer, { stage: 'scores' });
    s.emit(DeviceEvents.heartbeat, 'not an object');
    await waitFor('three protocol errors', async () => errors.length >= 3);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'launch-missiles', error: expect.stringMatching(/unknown event/) }),
        expect.objectContaining({ event: 'infer', error: expect.stringMatching(/sent by the server/) }),
        expect.objectContaining({ event: 'heartbeat' }),
      ]),
    );
    const good = await s.timeout(5000).emitWithAck(DeviceEvents.heartbeat, { at: new Date().toISOString() });
    expect(good).toEqual({ ok: true });
    expect(s.connected).toBe(true);
    expect((await call(fixture.api, 'GET', '/health')).status).toBe(200);
  });

  it('a device that acks garbage or not at all is reported, not crashed on', async () => {
    const d = await provision('liar', 4);
    const s = await connect(d.token);
    s.on(DeviceEvents.infer, (p: { sampleIndex: number }, ack: (r: unknown) => void) => {
      if (p.sampleIndex === 0) ack({ ok: true, scores: 'not bytes', latencyMs: -1 });
      // sample 1: never answers
    });
    await waitFor('connected', async () => (await fixture.transport.connectedDevices()).some((c) => c.deviceId === d.deviceId));
    const garbage = fixture.transport.request(d.deviceId, { stage: 'scores', sessionId: 's', sampleIndex: 0, dataset: 'synth', sampleId: 'x' }, 5000);
    await expect(garbage).rejects.toBeInstanceOf(MalformedReplyError);
    await expect(garbage).rejects.toThrow(/malformed reply: .*scores/);
    const silent = fixture.transport.request(d.deviceId, { stage: 'scores', sessionId: 's', sampleIndex: 1, dataset: 'synth', sampleId: 'x' }, 300);
    await expect(silent).rejects.toEqual(new DeviceUnavailableError(d.deviceId, 'timeout'));
    await expect(fixture.transport.request('00000000-0000-0000-0000-000000000000', { stage: 'features', sessionId: 's', sampleIndex: 0 }, 100)).rejects.toMatchObject({ reason: 'not-connected' });
  });

  it("a device's reply text holding NUL or a lone surrogate is logged printable, and the run goes on (it failed the run)", async () => {
    const honest = await runtimeClient('honest', 0);
    const d = await provision('odd-text', 1);
    const s = await connect(d.token);
    s.on(DeviceEvents.deploy, (_p: unknown, ack: (r: unknown) => void) => ack({ ok: true, section: 'device-1', modelId: 'm1', modelVersion: 'x', bytes: 1 }));
    s.on(DeviceEvents.infer, (p: { sampleIndex: number }, ack: (r: unknown) => void) =>
      ack(p.sampleIndex % 2 ? { ok: false, skipped: true, cause: 'source', error: 'bad\u0000frame \ud800' } : { ok: false, error: 'x\u0000y' }),
    );
    await waitFor('connected', async () => (await fixture.transport.connectedDevices()).some((c) => c.deviceId === d.deviceId));
    const run = await call(fixture.api, 'POST', '/sessions', ADMIN, {
      modelId: 'm1', dataset: 'synth', split: 'test', topology: { devices: [{ deviceId: honest.deviceId, view: 0 }, { deviceId: d.deviceId, view: 1 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } }, mode: 'production', deadlineMs: 2000,
    });
    expect(run.status).toBe(201);
    const id = run.body.id as string;
    const status = await waitFor('the session to end', async () => {
      const v = (await call(fixture.api, 'GET', `/sessions/${id}`, ADMIN)).body as { status: string };
      return v.status === 'completed' || v.status === 'failed' ? v.status : undefined;
    }, 60_000);
    expect(status).toBe('completed');
    const details = (await fixture.api.sql<{ data: { deviceId: string; detail: string } }>(`SELECT data FROM events WHERE stream_id = $1 AND type = 'DeviceMissed'`, [`session-${id}`]))
      .filter((r) => r.data.deviceId === d.deviceId)
      .map((r) => r.data.detail);
    expect(details.length).toBeGreaterThan(0);
    expect(new Set(details)).toEqual(new Set(['bad frame \ufffd', 'device failed: x y']));
  });

  it('disconnects are logged, a pending request fails as disconnected, and locking kicks a connected device', async () => {
    const d = await provision('leaver', 5);
    const s = await connect(d.token);
    s.on(DeviceEvents.infer, () => setTimeout(() => s.disconnect(), 50));
    await waitFor('connected', async () => (await fixture.transport.connectedDevices()).some((c) => c.deviceId === d.deviceId));
    const pending = fixture.transport.request(d.deviceId, { stage: 'features', sessionId: 's', sampleIndex: 0 }, 2000);
    await expect(pending).rejects.toMatchObject({ reason: 'disconnected' });
    const events = await waitFor('DeviceDisconnected', async () => {
      const ev = await deviceEvents(d.deviceId);
      return ev.some((e) => e.type === 'DeviceDisconnected') ? ev : null;
    });
    expect(events.find((e) => e.type === 'DeviceDisconnected')?.data).toMatchObject({ deviceId: d.deviceId, reason: 'client namespace disconnect' });
    const row = (await call(fixture.api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body;
    expect(row.connectivity).toMatchObject({ active: false, lastDisconnectAt: expect.any(String) });

    const e = await provision('to-lock', 0);
    const kicked = await connect(e.token);
    const gone = new Promise<string>((r) => kicked.once('disconnect', r));
    await call(fixture.api, 'PATCH', `/devices/${e.deviceId}`, ADMIN, { adminState: 'locked' });
    expect(await gone).toBe('io server disconnect');
  });

  it('a connected device that stops sending heartbeats goes inactive (DeviceWentInactive)', async () => {
    const d = await provision('quiet', 1);
    await connect(d.token);
    const events = await waitFor('DeviceWentInactive', async () => {
      const ev = await deviceEvents(d.deviceId);
      return ev.some((x) => x.type === 'DeviceWentInactive') ? ev : null;
    });
    expect(events.find((x) => x.type === 'DeviceWentInactive')?.data).toMatchObject({ deviceId: d.deviceId, timeoutMs: 1000 });
    expect((await call(fixture.api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body.connectivity.active).toBe(false);
  });

  it('a device heard from again on the same connection after going inactive is active again everywhere (DeviceBecameActive)', async () => {
    const d = await provision('stalled', 2);
    const s = await connect(d.token);
    await waitFor('DeviceWentInactive', async () => ((await deviceEvents(d.deviceId)).some((x) => x.type === 'DeviceWentInactive') ? true : null));
    // The agent comes back from its stall (SIGSTOP, then SIGCONT) on the socket it had, and beats on (the timeout is 1 s).
    expect(await s.timeout(5000).emitWithAck(DeviceEvents.heartbeat, { at: new Date().toISOString() })).toEqual({ ok: true });
    const beating = setInterval(() => s.emit(DeviceEvents.heartbeat, { at: new Date().toISOString() }), 200);
    try {
    const types = (await deviceEvents(d.deviceId)).map((x) => x.type);
    expect(types.slice(0, 4)).toEqual(['DeviceRegistered', 'DeviceConnected', 'DeviceWentInactive', 'DeviceBecameActive']);
    const back = (await deviceEvents(d.deviceId))[3].data;
    expect(back).toMatchObject({ deviceId: d.deviceId, silentForMs: expect.any(Number) });
    expect(back.silentForMs as number).toBeGreaterThanOrEqual(1000);
    expect((await call(fixture.api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body.connectivity.active).toBe(true);
    // What the status projection, the connectivity timeline and so the device_inactive alert read.
    await waitFor('the status projection to say active', async () =>
      (await fixture.api.sql<{ connectivity: string }>('SELECT connectivity FROM device_statuses WHERE device_id = $1', [d.deviceId]))[0]?.connectivity === 'active' ? true : null,
    );
    const timeline = await call<{ spans: { state: string }[] }>(fixture.api, 'GET', `/metrics/connectivity?deviceId=${d.deviceId}`, ADMIN);
    expect(timeline.body.spans.map((x) => x.state).slice(-3)).toEqual(['connected', 'inactive', 'connected']);
    } finally {
      clearInterval(beating);
      s.disconnect();
    }
  });

  function firstSampleId(): string {
    return readFileSync(path.join(fixture.api.dataDir, 'datasets', 'synth', 'labels.csv'), 'utf8').split('\n')[1].split(',')[0];
  }

  async function deployMessage(section: string) {
    const manifest = JSON.parse(readFileSync(path.join(fixture.api.dataDir, 'models', 'm1', 'manifest.json'), 'utf8')) as unknown;
    const version = (await call(fixture.api, 'GET', '/models/m1', ADMIN)).body.version as string;
    return { modelId: 'm1', modelVersion: version, section, manifest, weights: new Uint8Array(readFileSync(path.join(fixture.api.dataDir, 'models', 'm1', `${section}.bin`))) };
  }
});
