import net from 'node:net';
import { freePort } from './ports';
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
