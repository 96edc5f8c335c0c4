import type { InferReply, InferRequest } from '@ddnn/contracts';
import { absentText, REDEPLOY_WAIT_MS, RedeployingError, redeployedFirst, ReturningDevices, waitForDevices, type DeviceConnection } from './device-wait';
import type { DeviceRequester } from './ports';

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

describe('ReturningDevices and redeployedFirst', () => {
  const scores = (sampleIndex: number): InferRequest => ({ stage: 'scores', sessionId: 's', sampleIndex, dataset: 'd', sampleId: `x${sampleIndex}` });
  const ok: InferReply = { ok: true, scores: new Uint8Array(12), latencyMs: 1 };

  /** Two devices on their first connections; redeploys and requests recorded in one order, each redeploy held until released. */
  function run() {
    const order: string[] = [];
    let connections: DeviceConnection[] = [
      { deviceId: 'a', connectionId: 'a1' },
      { deviceId: 'b', connectionId: 'b1' },
    ];
    const releases: (() => void)[] = [];
    const returning = new ReturningDevices(['a', 'b'], connections, async () => connections, () => {
      order.push('redeploy');
      return new Promise<void>((r) => releases.push(r));
    });
    const timeouts: number[] = [];
    const transport: DeviceRequester = {
      request: async (deviceId, req, timeoutMs) => {
        order.push(`${deviceId}:${req.stage}:${req.sampleIndex}`);
        timeouts.push(timeoutMs);
        return ok;
      },
    };
    const requester = redeployedFirst(transport, () => returning, (id) => connections.find((c) => c.deviceId === id)?.connectionId);
    const reconnect = (deviceId: string, connectionId: string) => (connections = connections.map((c) => (c.deviceId === deviceId ? { deviceId, connectionId } : c)));
    return { order, returning, requester, reconnect, releases, timeouts };
  }

  const settle = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };

  it('asks a device on a connection it has seen at once, with nothing to wait for', async () => {
    const { order, returning, requester } = run();
    expect(returning.pending('a', 'a1')).toBeNull();
    await requester.request('a', scores(0), 500);
    expect(order).toEqual(['a:scores:0']);
  });

  it("holds a reconnected device's requests until its section is redeployed, and only its own", async () => {
    const { order, requester, reconnect, releases } = run();
    reconnect('b', 'b2');
    const held = requester.request('b', scores(1), 500);
    await settle();
    expect(order).toEqual(['redeploy']);
    // The other device is not held up by the redeploy; nor are features (asked of a sample already scored).
    await requester.request('a', scores(1), 500);
    await requester.request('b', { stage: 'features', sessionId: 's', sampleIndex: 0 }, 500);
    // A second request to it while the redeploy runs waits for the same one.
    const second = requester.request('b', scores(2), 500);
    await settle();
    expect(order).toEqual(['redeploy', 'a:scores:1', 'b:features:0']);
    releases[0]();
    await Promise.all([held, second]);
    expect(order).toEqual(['redeploy', 'a:scores:1', 'b:features:0', 'b:scores:1', 'b:scores:2']);
    // Seen now: no more redeploys.
    await requester.request('b', scores(3), 500);
    expect(order.filter((o) => o === 'redeploy')).toHaveLength(1);
  });

  it('looks again when a look under way asked for the connections before the device reconnected', async () => {
    const { order, returning, requester, reconnect, releases } = run();
    reconnect('a', 'a2');
    const poll = returning.check();
    await settle();
    // The poll is redeploying a; b reconnects meanwhile: its request waits for a look of its own.
    reconnect('b', 'b2');
    const held = requester.request('b', scores(4), 500);
    await settle();
    expect(order).toEqual(['redeploy']);
    releases[0]();
    await poll;
    await settle();
    expect(order).toEqual(['redeploy', 'redeploy']);
    releases[1]();
    await held;
    expect(order).toEqual(['redeploy', 'redeploy', 'b:scores:4']);
  });

  it('fails a request at once as not served when the redeploy outlasts its short wait, not after the whole deadline', async () => {
    jest.useFakeTimers();
    try {
      const { order, requester, reconnect, releases, timeouts } = run();
      reconnect('b', 'b2');
      const held = requester.request('b', scores(5), 5_000).catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(REDEPLOY_WAIT_MS - 1);
      expect(order).toEqual(['redeploy']);
      await jest.advanceTimersByTimeAsync(1);
      // Held a quarter second, not the 5 s deadline (a fast stream's window filled with such samples), and never sent.
      expect(await held).toBeInstanceOf(RedeployingError);
      expect(order).toEqual(['redeploy']);
      // Within the wait, the request goes with what is left of its deadline.
      const next = requester.request('b', scores(6), 5_000);
      await jest.advanceTimersByTimeAsync(100);
      releases[0]();
      await next;
      expect(order).toEqual(['redeploy', 'b:scores:6']);
      expect(timeouts).toEqual([4_900]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('deploys again, later each time, to a device whose deploy failed (it was counted as seen and missed every sample)', async () => {
    let t = 0;
    const deploys: string[][] = [];
    let failing = new Set(['b']);
    const connections: DeviceConnection[] = [
      { deviceId: 'a', connectionId: 'a1' },
      { deviceId: 'b', connectionId: 'b1' },
    ];
    // b's deploy at the run's start failed already.
    const returning = new ReturningDevices(['a', 'b'], connections, async () => connections, async () => {
      deploys.push([]);
      return [...failing];
    }, undefined, ['b'], () => t);
    const at = async (ms: number) => {
      t = ms;
      await returning.check();
      return deploys.length;
    };
    expect(await at(999)).toBe(0);
    expect(await at(1_000)).toBe(1);
    // Failed again: 2 s later, then 4 s.
    expect(await at(2_999)).toBe(1);
    expect(await at(3_000)).toBe(2);
    expect(await at(6_999)).toBe(2);
    failing = new Set();
    expect(await at(7_000)).toBe(3);
    // Deployed: no more.
    expect(await at(60_000)).toBe(3);
    // A request to it meanwhile is not held by a retry that is not due.
    expect(returning.pending('b', 'b1')).toBeNull();
  });

  it('does not hold a device not attached to this node (away, or on another node): the poll looks for it', () => {
    const { returning } = run();
    expect(returning.pending('b', undefined)).toBeNull();
    expect(returning.pending('not-in-the-run', 'z1')).toBeNull();
  });
});
