import net from 'node:net';
import { freePort } from './ports';
import { failoverProxy } from './failover-proxy';
import { waitFor } from './polling';

describe('freePort', () => {
  it('returns a loopback port nothing listens on, which can then be bound', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => srv.on('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((r) => srv.close(r));
  });
});

describe('waitFor', () => {
  it('keeps polling past undefined, null, false and thrown errors, and resolves with the first real value', async () => {
    const answers: unknown[] = [undefined, null, false, new Error('refused'), 0, 'ready'];
    let calls = 0;
    const value = await waitFor('the answer', async () => {
      const a = answers[calls++];
      if (a instanceof Error) throw a;
      return a as number | string | undefined | null | false;
    }, 5_000, 1);
    // 0 is a value, not "not yet".
    expect(value).toBe(0);
    expect(calls).toBe(5);
  });

  it('fails after the deadline naming what it waited for and the last error', async () => {
    await expect(waitFor('the moon', async () => { throw new Error('connection refused'); }, 50, 5)).rejects.toThrow(
      /timed out after 50 ms waiting for the moon \(last error: connection refused\)/,
    );
  });
});

describe('failoverProxy', () => {
  /** A server answering every connection with its name. */
  const named = async (name: string) => {
    const srv = net.createServer((c) => c.end(name));
    const port = await freePort();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    return { srv, port };
  };
  const ask = (url: string) =>
    new Promise<string>((resolve, reject) => {
      let got = '';
      net.connect(Number(new URL(url).port), '127.0.0.1').on('data', (d) => (got += d)).on('close', () => resolve(got)).on('error', reject);
    });

  it('forwards to the first backend that accepts, the next one once it is gone, and closes when none is left', async () => {
    const [a, b] = [await named('a'), await named('b')];
    const proxy = await failoverProxy([a.port, b.port]);
    try {
      expect(await ask(proxy.url)).toBe('a');
      await new Promise((r) => a.srv.close(r));
      expect(await ask(proxy.url)).toBe('b');
      await new Promise((r) => b.srv.close(r));
      expect(await ask(proxy.url)).toBe('');
      expect(Object.fromEntries(proxy.forwarded)).toEqual({ [a.port]: 1, [b.port]: 1 });
    } finally {
      await proxy.close();
    }
  });
});
