import { isDeviceMiss, emptySessionSummary, foldSessionEvents, type StoredEvent } from '@ddnn/contracts';
import { syntheticSessionEvents } from '@ddnn/policies';
import { deviceMisses, runMisses } from './misses';

describe('misses as device_miss_rate counts them', () => {
  it("leave skipped captures out of the misses and of the rate's requests", () => {
    // libs/events' metric-series.spec cell: 12 answered, 8 missed (2 timeouts, 1 invalid, 5 skipped) -> 3 / 15.
    const t = deviceMisses({ answered: 12, missed: 8, missedByReason: { timeout: 2, disconnected: 0, error: 0, invalid: 1, skipped: 5 } });
    expect(t).toEqual({ answered: 12, missed: 3, notCaptured: 5, captured: 15, missRate: 3 / 15 });
  });

  it('have no rate when every request was a skipped capture, and read summaries stored before a reason existed', () => {
    expect(deviceMisses({ answered: 0, missed: 4, missedByReason: { timeout: 0, disconnected: 0, error: 0, invalid: 0, skipped: 4 } }).missRate).toBeNull();
    const old = { answered: 3, missed: 1, missedByReason: { timeout: 1 } } as unknown as Parameters<typeof deviceMisses>[0];
    expect(deviceMisses(old)).toEqual({ answered: 3, missed: 1, notCaptured: 0, captured: 4, missRate: 0.25 });
  });

  it("sum a run's devices from the summary the server folds", () => {
    let k = 0;
    // Every other miss of the synthetic run becomes a skipped capture.
    const events = syntheticSessionEvents({ sessionId: 'run', samples: 60, devices: 3, seed: 7, missScores: 0.2, missFeatures: 0 }).map((e): StoredEvent =>
      e.type === 'DeviceMissed' && k++ % 2 === 0 ? { ...e, data: { ...e.data, reason: 'skipped' } } : e,
    );
    const summary = foldSessionEvents(emptySessionSummary('run'), events);
    const missed = events.filter((e) => e.type === 'DeviceMissed');
    const skipped = missed.filter((e) => e.type === 'DeviceMissed' && !isDeviceMiss(e.data.reason)).length;
    expect(skipped).toBeGreaterThan(0);
    const run = runMisses(summary);
    expect(run.notCaptured).toBe(skipped);
    expect(run.missed).toBe(missed.length - skipped);
    expect(run.missed + run.notCaptured).toBe(summary.missed);
    expect(run.missRate).toBeCloseTo(run.missed / (run.answered + run.missed), 12);
    expect(run.answered).toBe(Object.values(summary.devices).reduce((a, d) => a + d.answered, 0));
  });
});
