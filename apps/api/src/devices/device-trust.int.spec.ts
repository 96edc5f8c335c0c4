import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@nestjs/common';
import { DeviceEvents } from '@ddnn/contracts';
import { waitFor } from '@ddnn/testing';
import { DEVICE_MESSAGE_LIMIT_BYTES } from './device-io-adapter';
import { DevicesService } from './devices.service';
import { MalformedMessages } from './malformed-messages';
import { call, useDeviceTestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';

/** What a device says about itself, and what it sends, is checked against what the server knows. */
describe('device messages and claims (real Postgres, real sockets)', () => {
  const fixture = useDeviceTestApi(ADMIN);
  const { provision, connect } = fixture;

  it('advertises the message limit it enforces: a message just under it arrives, one just over it closes the connection', async () => {
    const handshake = await (await fetch(`${fixture.api.url}/socket.io/?EIO=4&transport=polling`)).text();
    expect(JSON.parse(handshake.slice(1))).toMatchObject({ maxPayload: DEVICE_MESSAGE_LIMIT_BYTES });

    const d = await provision('big-talker', 0);
    const s = await connect(d.token);
    // Above socket.io's default of 1e6 bytes, below the limit: received and answered (as a bad heartbeat).
    const under = await s.timeout(10_000).emitWithAck(DeviceEvents.heartbeat, { at: new Date().toISOString(), pad: 'x'.repeat(DEVICE_MESSAGE_LIMIT_BYTES - 20_000) });
    expect(under).toMatchObject({ ok: false, error: expect.stringMatching(/pad/) });
    const closed = new Promise<string>((r) => s.once('disconnect', r));
    s.emit(DeviceEvents.heartbeat, { at: new Date().toISOString(), pad: 'x'.repeat(DEVICE_MESSAGE_LIMIT_BYTES + 10_000) });
    expect(await closed).toBe('transport close');
    expect((await call(fixture.api, 'GET', '/health')).status).toBe(200);
  });

  it('counts malformed messages per device and logs them at most once a minute, with the count', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const d = await provision('flooder', 1);
      const s = await connect(d.token);
      // Under the flood limit (200 messages in 10 s, socket-limits.int.spec.ts): counted, logged once, not cut off.
      for (let i = 0; i < 150; i++) s.emit(DeviceEvents.heartbeat, { at: 'never', n: i });
      for (let i = 0; i < 40; i++) s.emit('made-up-event', i);
      const counter = fixture.api.app.get(MalformedMessages);
      await waitFor('190 malformed messages counted', async () => counter.count(d.deviceId) === 190);
      const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes(d.deviceId));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/sent 1 malformed message\(s\)/);
      expect(s.connected).toBe(true);
    } finally {
      warn.mockRestore();
    }
  });

  it('a heartbeat with a NUL byte is a protocol error, and no heartbeat claim overwrites the deployed section', async () => {
    const d = await provision('claimer', 2);
    const s = await connect(d.token);
    const nul = await s.timeout(5000).emitWithAck(DeviceEvents.heartbeat, { at: new Date().toISOString(), modelId: 'm\u0000x', modelVersion: 'v' });
    expect(nul).toMatchObject({ ok: false, error: expect.stringMatching(/modelId: must not contain control characters/) });
    const claim = await s.timeout(5000).emitWithAck(DeviceEvents.heartbeat, { at: new Date().toISOString(), modelId: 'forged-model', modelVersion: 'v9' });
    expect(claim).toEqual({ ok: true });
    const row = (await call(fixture.api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body;
    expect(row.deployed).toBeNull();
    expect(row.connectivity.active).toBe(true);
  });

  it('a deploy ack that does not match what was sent is refused and not recorded', async () => {
    const d = await provision('fibber', 3);
    const s = await connect(d.token);
    let lie: Record<string, unknown> = {};
    s.on(DeviceEvents.deploy, (m: { modelId: string; modelVersion: string; section: string; weights: Uint8Array }, ack: (r: unknown) => void) =>
      ack({ ok: true, modelId: m.modelId, modelVersion: m.modelVersion, section: m.section, bytes: m.weights.byteLength, ...lie }),
    );
    await waitFor('connected', async () => (await fixture.transport.connectedDevices()).some((c) => c.deviceId === d.deviceId));
    const msg = await deployMessage('device-3');
    lie = { section: 'device-0', modelId: 'other' };
    const refused = await fixture.transport.deploy(d.deviceId, msg, 5000);
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/modelId "other" \(sent "m1"\), section "device-0" \(sent "device-3"\)/) });
    lie = { bytes: 1 };
    expect(await fixture.transport.deploy(d.deviceId, msg, 5000)).toMatchObject({ ok: false, error: expect.stringMatching(/bytes 1 \(sent \d+\)/) });
    const types = (await fixture.api.sql<{ type: string }>('SELECT type FROM events WHERE stream_id = $1', [`device-${d.deviceId}`])).map((e) => e.type);
    expect(types).not.toContain('ModelDeployed');
    expect((await call(fixture.api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body.deployed).toBeNull();
    expect((await fixture.transport.connectedDevices()).find((c) => c.deviceId === d.deviceId)?.section).toBeNull();
    lie = {};
    expect(await fixture.transport.deploy(d.deviceId, msg, 5000)).toMatchObject({ ok: true, section: 'device-3' });
    expect((await call(fixture.api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body.deployed).toMatchObject({ modelId: 'm1', section: 'device-3' });
  });

  it('rotating a token disconnects the socket that uses the old one', async () => {
    const d = await provision('rotator', 4);
    const s = await connect(d.token);
    const gone = new Promise<string>((r) => s.once('disconnect', r));
    const rotated = await call(fixture.api, 'POST', `/devices/${d.deviceId}/rotate-token`, ADMIN);
    expect(rotated.status).toBe(201);
    expect(await gone).toBe('io server disconnect');
    await expect(connect(d.token)).rejects.toThrow(/unknown or revoked/);
    const fresh = await connect(rotated.body.token);
    expect(fresh.connected).toBe(true);
  });

  // The connection is logged before the socket is attached to the transport (so nothing reaches a device ahead of
  // its DeviceConnected); a cut-off in that window used to find nothing to disconnect.
  it('a token rotated while the connection is being logged cuts that socket too', async () => {
    const d = await provision('slow-joiner', 6);
    const service = fixture.api.app.get(DevicesService);
    const logConnected = service.connected.bind(service);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const spy = jest.spyOn(service, 'connected').mockImplementationOnce(async (id, address) => {
      await held;
      return logConnected(id, address);
    });
    try {
      const s = await connect(d.token);
      const gone = new Promise<string>((r) => s.once('disconnect', r));
      await waitFor('the connection being logged', async () => spy.mock.calls.length === 1);
      expect((await call(fixture.api, 'POST', `/devices/${d.deviceId}/rotate-token`, ADMIN)).status).toBe(201);
      release();
      expect(await gone).toBe('io server disconnect');
      await waitFor('the connection and the cut logged', async () => (await connectivity(d.deviceId)).join() === 'DeviceConnected,DeviceDisconnected');
      expect((await fixture.transport.connectedDevices()).map((c) => c.deviceId)).not.toContain(d.deviceId);
    } finally {
      spy.mockRestore();
    }
  });

  it('a token revoked between the handshake check and the room join is caught by the second check', async () => {
    const d = await provision('early-bird', 7);
    const service = fixture.api.app.get(DevicesService);
    const check = service.authenticate.bind(service);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let checked = false;
    const spy = jest.spyOn(service, 'authenticate').mockImplementationOnce(async (token) => {
      const device = await check(token);
      checked = true;
      await held;
      return device;
    });
    try {
      const connecting = connect(d.token);
      await waitFor('the handshake token checked', async () => checked);
      expect((await call(fixture.api, 'POST', `/devices/${d.deviceId}/revoke-token`, ADMIN)).status).toBe(200);
      release();
      const s = await connecting;
      if (s.connected) expect(await new Promise<string>((r) => s.once('disconnect', r))).toBe('io server disconnect');
      await waitFor('the connection and the cut logged', async () => (await connectivity(d.deviceId)).join() === 'DeviceConnected,DeviceDisconnected');
      expect((await fixture.transport.connectedDevices()).map((c) => c.deviceId)).not.toContain(d.deviceId);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a session naming devices that are not registered (400 naming them)', async () => {
    const known = await provision('known', 5);
    const ghost = '11111111-2222-3333-4444-555555555555';
    const spec = {
      modelId: 'm1',
      dataset: 'synth',
      split: 'test',
      topology: { devices: [{ deviceId: known.deviceId, view: 5 }, { deviceId: ghost, view: 0 }, { deviceId: 'not-a-uuid', view: 1 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      mode: 'production',
      deadlineMs: 1000,
    };
    const r = await call(fixture.api, 'POST', '/sessions', ADMIN, spec);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(new RegExp(`no registered device ${ghost}, not-a-uuid`));
    expect(JSON.stringify(r.body)).not.toContain(known.deviceId);
  });

  async function connectivity(deviceId: string): Promise<string[]> {
    const rows = await fixture.api.sql<{ type: string }>('SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_position', [`device-${deviceId}`]);
    return rows.map((e) => e.type).filter((t) => t === 'DeviceConnected' || t === 'DeviceDisconnected');
  }

  async function deployMessage(section: string) {
    const manifest = JSON.parse(readFileSync(path.join(fixture.api.dataDir, 'models', 'm1', 'manifest.json'), 'utf8')) as unknown;
    const version = (await call(fixture.api, 'GET', '/models/m1', ADMIN)).body.version as string;
    return { modelId: 'm1', modelVersion: version, section, manifest, weights: new Uint8Array(readFileSync(path.join(fixture.api.dataDir, 'models', 'm1', `${section}.bin`))) };
  }
});
