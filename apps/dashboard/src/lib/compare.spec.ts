import { sampleTraffic, type SessionStarted, type StoredEvent, type StreamStarted } from '@ddnn/contracts';
import { syntheticSessionEvents } from '@ddnn/policies';
import { deviceSide, parseWindowsParam, type PickedRun, windowsParam } from './compare';

const ID = '0f3c2a1e-5b7d-4c9e-8a6f-2d1b3c4e5f60';

describe('the windows parameter', () => {
  it('carries each window with the instant its samples began, and reads one written before it had one', () => {
    const runs: PickedRun[] = [
      { id: ID, window: { fromSample: 4, toSample: 90 }, since: 1_765_000_000_123 },
      { id: 'abc', window: { fromSample: 0, toSample: 0 }, since: null },
      { id: 'whole', window: null },
    ];
    const text = windowsParam(runs);
    expect(text).toBe(`${ID}:4-90@1765000000123,abc:0-0`);
    expect(parseWindowsParam(text)).toEqual(runs.slice(0, 2));
  });

  it('drops malformed entries', () => {
    expect(parseWindowsParam(`${ID}:9-3,${ID}:1-2@x,${ID}:a-b,not an id:1-2,${ID}:1-2@12`)).toEqual([{ id: ID, window: { fromSample: 1, toSample: 2 }, since: 12 }]);
  });
});

/** The same run as a stream logs it: a StreamStarted, samples without labels, the labels posted at the end. */
function asStream(events: StoredEvent[]): StoredEvent[] {
  const labels: StoredEvent[] = [];
  const out = events.map((e): StoredEvent => {
    if (e.type === 'SessionStarted') {
      const s: SessionStarted = e.data;
      const data: StreamStarted = { sessionId: s.sessionId, modelId: s.modelId, classes: s.classes, topology: s.topology, policy: s.policy, mode: s.mode, deadlineMs: s.deadlineMs, rate: 2, captureToleranceMs: 100, messageSizes: s.messageSizes };
      return { ...e, type: 'StreamStarted', data };
    }
    if (e.type === 'SampleStarted') {
      if (e.data.label !== null) labels.push({ ...e, type: 'SampleLabelled', data: { sessionId: e.data.sessionId, sampleIndex: e.data.sampleIndex, label: e.data.label, labelledAt: 1 } });
      return { ...e, data: { ...e.data, label: null } };
    }
    if (e.type === 'ExitDecided') return { ...e, data: { ...e.data, label: null } };
    return e;
  });
  return [...out, ...labels];
}

describe('the device side of a compared run', () => {
  const events = syntheticSessionEvents({ sessionId: 'run', samples: 60, devices: 3, seed: 7, missScores: 0.15, missFeatures: 0.1, unlabelled: 0.2 });
  const devices = ['dev-0', 'dev-1', 'dev-2'];
  const inside = (lo: number, hi: number) => (e: StoredEvent) => !('sampleIndex' in e.data) || (e.data.sampleIndex >= lo && e.data.sampleIndex <= hi);
  // The browser test holds the page to a full count by hand (libs/testing countDeviceSide) on a real stream.
  const missedOf = (es: StoredEvent[], id: string) => es.filter((e) => e.type === 'DeviceMissed' && e.data.deviceId === id).length;
  const sentOf = (es: StoredEvent[], id: string) =>
    es.reduce((b, e) => b + (sampleTraffic(e)?.messages.reduce((x, m) => x + (!m.shadow && m.from === id ? m.bytes : 0), 0) ?? 0), 0);

  it('counts a whole run: its samples, misses and bytes per device as logged', () => {
    const got = deviceSide('run', events, null);
    expect(got.samples).toBe(60);
    expect(got.samplesWithMisses).toBeGreaterThan(0);
    expect(got.devices.map((d) => d.deviceId)).toEqual(devices);
    for (const d of got.devices) {
      expect(d.missed).toBe(missedOf(events, d.deviceId));
      expect(d.bytesPerSample).toBeCloseTo(sentOf(events, d.deviceId) / 60, 9);
      expect(d.answerRate).toBeLessThan(1);
      expect(d.labelled).toBeGreaterThan(0);
    }
  });

  it('counts skipped captures apart from misses: per device, and per sample in the fault scenarios', () => {
    let k = 0;
    const mixed = events.map((e): StoredEvent => (e.type === 'DeviceMissed' && e.data.stage === 'scores' && k++ % 2 === 0 ? { ...e, data: { ...e.data, reason: 'skipped' } } : e));
    const whole = deviceSide('run', events, null);
    const got = deviceSide('run', mixed, null);
    const misses = (reason: (r: string) => boolean, id: string) => mixed.filter((e) => e.type === 'DeviceMissed' && e.data.deviceId === id && reason(e.data.reason)).length;
    for (const d of got.devices) {
      expect(d.missed).toBe(misses((r) => r !== 'skipped', d.deviceId));
      expect(d.notCaptured).toBe(misses((r) => r === 'skipped', d.deviceId));
    }
    expect(got.devices.reduce((a, d) => a + d.notCaptured, 0)).toBeGreaterThan(0);
    // A sample counts once: with a miss when any device missed, else not captured when a camera skipped.
    const scoreMisses = (reason: (r: string) => boolean) =>
      new Set(mixed.flatMap((e) => (e.type === 'DeviceMissed' && e.data.stage === 'scores' && reason(e.data.reason) ? [e.data.sampleIndex] : [])));
    const withMiss = scoreMisses((r) => r !== 'skipped');
    const onlySkipped = [...scoreMisses((r) => r === 'skipped')].filter((i) => !withMiss.has(i));
    expect(got.samplesWithMisses).toBe(withMiss.size);
    expect(got.samplesNotCaptured).toBe(onlySkipped.length);
    expect(got.samplesWithMisses + got.samplesNotCaptured).toBe(whole.samplesWithMisses);
    expect(whole.samplesNotCaptured).toBe(0);
  });

  it("counts only a window's samples, and a stream's late labels as the same run's own", () => {
    const window = events.filter(inside(20, 39));
    const want = deviceSide('run', window, null);
    expect(want.samples).toBe(20);
    for (const log of [events, asStream(events)]) {
      const got = deviceSide('run', log, { fromSample: 20, toSample: 39 });
      expect(got).toEqual(want);
      got.devices.forEach((d) => expect(d.missed).toBe(missedOf(window, d.deviceId)));
    }
    // Without the late labels, nothing of the stream's window is labelled.
    const unlabelled = deviceSide('run', asStream(events).filter((e) => e.type !== 'SampleLabelled'), { fromSample: 20, toSample: 39 });
    expect(unlabelled.devices.map((d) => [d.labelled, d.accuracy])).toEqual(devices.map(() => [0, null]));
  });
});
