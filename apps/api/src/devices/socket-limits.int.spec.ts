import { Logger } from '@nestjs/common';
import type { Socket } from 'socket.io-client';
import { DEVICES_NAMESPACE, DeviceEvents } from '@ddnn/contracts';
import { connectSocket, waitFor } from '@ddnn/testing';
import { NO_MAIN_NAMESPACE } from './device-io-adapter';
import { DevicesService } from './devices.service';
import { MESSAGE_FLOOD } from './socket-endpoint';
import { call, useDeviceTestApi } from '../../test/devices/test-app';

const ADMIN = 'test-operator-token-0123456789';
const PER_ADDRESS = 6;

/** What one client can make the API hold: connections, queued writes (real Postgres, real sockets). */
describe('socket.io limits', () => {
  const fixture = useDeviceTestApi(ADMIN, { DDNN_SOCKET_MAX_PER_ADDRESS: String(PER_ADDRESS) });
  const { provision, connect } = fixture;
  const opened: Socket[] = [];
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });

  it('serves nothing on the main namespace, which needs no token: a client is refused there', async () => {
    await expect(connectSocket(`${fixture.api.url}/`, {})).rejects.toThrow(NO_MAIN_NAMESPACE);
  });

  it('holds at most DDNN_SOCKET_MAX_PER_ADDRESS connections from one address, and takes new ones as others close', async () => {
    const url = `${fixture.api.url}${DEVICES_NAMESPACE}`;
    const crowd = await Promise.all(Array.from({ length: PER_ADDRESS }, (_, i) => provision(`crowd-${i}`, i % 6)));
    for (const d of crowd) opened.push(await connectSocket(url, { token: d.token }));
    const late = await provision('one-too-many', 0);
    // Refused by the engine before any namespace: no token is even looked at.
    await expect(connectSocket(url, { token: late.token })).rejects.toThrow('websocket error');
    opened[0].close();
    const s = await waitFor('a slot once one of them closed', () => connectSocket(url, { token: late.token }).catch(() => undefined), 10_000, 100);
    opened.push(s);
    expect(s.connected).toBe(true);
  });

  it('queues one write for a burst of heartbeats, and cuts off a device that floods them', async () => {
    const service = fixture.api.app.get(DevicesService);
    const activity = service.activity.bind(service);
    let writes = 0;
    // A slow database: every write takes 300 ms, so the burst arrives while the first one waits.
    const spy = jest.spyOn(service, 'activity').mockImplementation(async (...args) => {
      writes++;
      await new Promise((r) => setTimeout(r, 300));
      return activity(...args);
    });
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const d = await provision('beats-a-lot', 3);
      const s = await connect(d.token);
      opened.push(s);
      const at = new Date().toISOString();
      const acks = await Promise.all(Array.from({ length: 150 }, () => s.timeout(10_000).emitWithAck(DeviceEvents.heartbeat, { at })));
      expect(acks.every((a) => (a as { ok: boolean }).ok)).toBe(true);
      // One write running, one queued that the later beats replaced: not 150.
      expect(writes).toBeLessThanOrEqual(3);
      const cut = new Promise<{ event: string; error: string }>((r) => s.once(DeviceEvents.error, r));
      const closed = new Promise<string>((r) => s.once('disconnect', r));
      for (let i = 0; i < MESSAGE_FLOOD.messages; i++) s.emit(DeviceEvents.heartbeat, { at });
      expect(await cut).toEqual({ event: DeviceEvents.heartbeat, error: `more than ${MESSAGE_FLOOD.messages} messages in 10 s: disconnected` });
      expect(await closed).toBe('io server disconnect');
      expect(warn.mock.calls.some(([m]) => /beats-a-lot .* sent more than 200 messages in 10 s: disconnected/.test(String(m)))).toBe(true);
      expect((await call(fixture.api, 'GET', '/health')).status).toBe(200);
    } finally {
      spy.mockRestore();
      warn.mockRestore();
    }
  });

  it('cuts off a device that floods malformed messages and unknown events as one that floods heartbeats', async () => {
    const d = await provision('garbage-talker', 5);
    const s = await connect(d.token);
    opened.push(s);
    const closed = new Promise<string>((r) => s.once('disconnect', r));
    for (let i = 0; i < MESSAGE_FLOOD.messages + 10; i++) {
      if (i % 2) s.emit(DeviceEvents.heartbeat, { at: 'never' });
      else s.emit('made-up-event', i);
    }
    expect(await closed).toBe('io server disconnect');
  });

  it('refuses a NUL in a heartbeat problem at the boundary, so nothing reaches Postgres', async () => {
    const d = await provision('nul-problem', 4);
    const s = await connect(d.token);
    opened.push(s);
    const ack = await s.timeout(10_000).emitWithAck(DeviceEvents.heartbeat, { at: new Date().toISOString(), problem: 'broken \u0000 camera' });
    expect(ack).toEqual({ ok: false, error: expect.stringMatching(/problem: must not contain control characters/) });
    const ok = await s.timeout(10_000).emitWithAck(DeviceEvents.heartbeat, { at: new Date().toISOString(), problem: 'lens\ncovered' });
    expect(ok).toEqual({ ok: true });
    expect((await call(fixture.api, 'GET', `/devices/${d.deviceId}`, ADMIN)).body.problem).toBe('lens\ncovered');
  });
});
