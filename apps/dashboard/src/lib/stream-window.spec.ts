import type { StoredEvent } from '@ddnn/contracts';
import { sampleBounds, windowBounds } from './stream-window';

const exit = (sampleIndex: number, o: { exited?: boolean; shadow?: boolean } = {}) =>
  ({ type: 'ExitDecided', data: { sampleIndex, exited: o.exited ?? true, shadow: o.shadow ?? false } }) as unknown as StoredEvent;

describe('stream windows', () => {
  it('a preset ends now and starts its length before; a custom window needs its start before its end', () => {
    const now = Date.parse('2026-12-05T18:00:00Z');
    expect(windowBounds('5m', { from: '', to: '' }, now)).toEqual({ from: '2026-12-05T17:55:00.000Z' });
    expect(windowBounds('24h', { from: '', to: '' }, now)).toEqual({ from: '2026-12-04T18:00:00.000Z' });
    const custom = windowBounds('custom', { from: '2026-12-05T10:00:00Z', to: '2026-12-05T11:00:00Z' }, now);
    expect(custom).toEqual({ from: '2026-12-05T10:00:00.000Z', to: '2026-12-05T11:00:00.000Z' });
    expect(windowBounds('custom', { from: '2026-12-05T11:00:00Z', to: '2026-12-05T11:00:00Z' }, now)).toBeNull();
    expect(windowBounds('custom', { from: '', to: '2026-12-05T11:00:00Z' }, now)).toBeNull();
  });

  it('sample bounds span the samples decided live in the window (not shadow checks, not exits that passed on)', () => {
    expect(sampleBounds([])).toBeNull();
    expect(sampleBounds([exit(7, { exited: false }), exit(9, { shadow: true })])).toBeNull();
    expect(sampleBounds([exit(12), exit(5, { exited: false }), exit(4), exit(30, { shadow: true }), exit(9)])).toEqual({ fromSample: 4, toSample: 12 });
  });
});
