import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PendingCalls } from './pending-calls';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

describe('PendingCalls', () => {
  it('passes a call through and forgets it once it settles', async () => {
    const calls = new PendingCalls();
    await expect(calls.run(Promise.resolve(7))).resolves.toBe(7);
    await expect(calls.run(Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(calls.size).toBe(0);
  });

  it('fails calls in flight and later calls when the endpoint closes', async () => {
    const calls = new PendingCalls();
    const never = calls.run(new Promise(() => undefined));
    expect(calls.size).toBe(1);
    calls.close(new Error('device gone'));
    await expect(never).rejects.toThrow('device gone');
    await expect(calls.run(Promise.resolve(1))).rejects.toThrow('device gone');
    expect(calls.size).toBe(0);
  });

  it('fails a call that outlasts its timeout, and a call that settles in time clears its timer', async () => {
    const calls = new PendingCalls();
    const late = calls.run(new Promise(() => undefined), { ms: 20, error: () => new Error('too slow') });
    await expect(late).rejects.toThrow('too slow');
    expect(calls.size).toBe(0);
    jest.useFakeTimers();
    try {
      const quick = calls.run(Promise.resolve('ok'), { ms: 1000, error: () => new Error('too slow') });
      await expect(quick).resolves.toBe('ok');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps no reply reachable after its call settled, however long the endpoint stays open', async () => {
    const calls = new PendingCalls();
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 50; i++) {
      const reply = { payload: new Float64Array(10_000) };
      refs.push(new WeakRef(reply));
      await calls.run(Promise.resolve(reply));
    }
    // WeakRefs clear only after the job that created them ends.
    await new Promise((r) => setImmediate(r));
    gc();
    await new Promise((r) => setImmediate(r));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined).length).toBeLessThanOrEqual(1);
  });
});
