import { absentText, waitForDevices } from './device-wait';

const on = (...ids: string[]) => async () => ids.map((deviceId) => ({ deviceId, connectionId: `c-${deviceId}` }));

describe('waitForDevices', () => {
  it('does not wait for a deleted device: a stream using one waited the whole DDNN_DEVICE_WAIT_MS at every resume', async () => {
    let polls = 0;
    const connected = async () => (polls++, on('a', 'b')());
    const absent = await waitForDevices(['a', 'gone', 'b'], { connected, unregistered: async (ids) => ids.filter((id) => id === 'gone'), halted: () => false, waitMs: 5000, pollMs: 20 });
    // One look: everything that can come is there.
    expect(polls).toBe(1);
    expect(absent).toMatchObject({ missing: ['gone'], deleted: ['gone'] });
    expect(absentText(absent)).toBe('gone (deleted)');
  });

  it('waits for a registered device that is away, up to the limit, and names both kinds apart', async () => {
    const absent = await waitForDevices(['a', 'gone', 'away'], { connected: on('a'), unregistered: async (ids) => ids.filter((id) => id === 'gone'), halted: () => false, waitMs: 300, pollMs: 20 });
    expect(absent.waitedMs).toBeGreaterThanOrEqual(300);
    expect(absent).toMatchObject({ missing: ['gone', 'away'], deleted: ['gone'] });
    expect(absentText(absent)).toBe(`gone (deleted), away (not connected after ${absent.waitedMs} ms)`);
  });

  it('stops waiting for a device deleted while it waits', async () => {
    let gone = false;
    setTimeout(() => (gone = true), 300);
    const absent = await waitForDevices(['a', 'late'], { connected: on('a'), unregistered: async (ids) => ids.filter((id) => gone && id === 'late'), halted: () => false, waitMs: 20_000, pollMs: 20 });
    expect(absent).toMatchObject({ missing: ['late'], deleted: ['late'] });
    expect(absent.waitedMs).toBeLessThan(20_000);
  });

  it('waits for every device when the registry cannot be asked, and stops waiting once they are all there', async () => {
    let polls = 0;
    const connected = async () => (++polls >= 3 ? on('a', 'b')() : on('a')());
    const absent = await waitForDevices(['a', 'b'], { connected, unregistered: async () => Promise.reject(new Error('database down')), halted: () => false, waitMs: 5000, pollMs: 20 });
    expect(absent).toMatchObject({ missing: [], deleted: [] });
    expect(polls).toBe(3);
  });
});
