import { storedEventBuilder } from '@ddnn/contracts';
import { connectivitySpans } from './connectivity';

describe('connectivitySpans', () => {
  const at = (s: number) => new Date(s * 1000).toISOString();

  it('is connected again from a DeviceBecameActive after an inactive stretch, and ignores one while disconnected', () => {
    const e = storedEventBuilder({ streamId: 'device-d' });
    const events = [
      e('DeviceConnected', { deviceId: 'd', node: 'n', remoteAddress: null }, at(10)),
      e('DeviceWentInactive', { deviceId: 'd', lastActivityAt: at(15), timeoutMs: 5000 }, at(20)),
      e('DeviceBecameActive', { deviceId: 'd', node: 'n', silentForMs: 20_000 }, at(35)),
      e('DeviceDisconnected', { deviceId: 'd', node: 'n', reason: 'bye' }, at(50)),
      e('DeviceBecameActive', { deviceId: 'd', node: 'n', silentForMs: 1 }, at(55)),
    ];
    expect(connectivitySpans(events, 0, 60_000).map((s) => [s.state, s.from / 1000, s.to / 1000])).toEqual([
      ['unknown', 0, 10],
      ['connected', 10, 20],
      ['inactive', 20, 35],
      ['connected', 35, 50],
      ['disconnected', 50, 60],
    ]);
  });
});
