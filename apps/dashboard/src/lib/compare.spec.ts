import type { SessionStarted, StoredEvent, StreamStarted } from '@ddnn/contracts';
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

/** Device side computed straight from the log, the way an operator would count it by hand. */
function byHand(events: StoredEvent[], lo: number, hi: number) {
  const inside = (i: number) => i >= lo && i <= hi;
  const decided = new Set(events.flatMap((e) => (e.type === 'ExitDecided' && e.data.exited && !e.data.shadow && inside(e.data.sampleIndex) ? [e.data.sampleIndex] : [])));
  const label = new Map(events.flatMap((e) => (e.type === 'SampleStarted' && e.data.label !== null ? [[e.data.sampleIndex, e.data.label] as const] : [])));
  const missedScores = new Set(events.flatMap((e) => (e.type === 'DeviceMissed' && e.data.stage === 'scores' ? [`${e.data.deviceId}:${e.data.sampleIndex}`] : [])));
  const devices = ['dev-0', 'dev-1', 'dev-2'];
  const per = devices.map((id) => {
    let answered = 0;
    let labelled = 0;
    let right = 0;
    for (const e of events) {
      if (e.type !== 'SectionEvaluated' || e.data.tier !== 'device' || e.data.node !== id || e.data.shadow || !decided.has(e.data.sampleIndex)) continue;
      if (missedScores.has(`${id}:${e.data.sampleIndex}`)) continue;
      answered++;
      const l = label.get(e.data.sampleIndex);
      if (l === undefined) continue;
      labelled++;
      const p = e.data.probabilities;
      if (p.indexOf(Math.max(...p)) === l) right++;
    }
    const missed = events.filter((e) => e.type === 'DeviceMissed' && e.data.deviceId === id && inside(e.data.sampleIndex)).length;
    const sent = events.reduce((b, e) => b + (e.type === 'BytesTransferred' && !e.data.shadow && e.data.from === id && inside(e.data.sampleIndex) ? e.data.bytes : 0), 0);
    return { deviceId: id, answerRate: answered / decided.size, accuracy: labelled ? right / labelled : null, labelled, missed, bytesPerSample: sent / decided.size };
  });
  const withMiss = [...decided].filter((i) => devices.some((d) => missedScores.has(`${d}:${i}`))).length;
  return { samples: decided.size, per, withMiss };
}

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

  it('counts a whole run as the log says: answers, own-exit accuracy, misses and bytes per device', () => {
    const want = byHand(events, 0, 59);
    const got = deviceSide('run', events, null);
    expect(got.samples).toBe(60);
    expect(got.samplesWithMisses).toBe(want.withMiss);
    expect(want.withMiss).toBeGreaterThan(0);
    expect(got.devices.map(({ deviceId, answerRate, accuracy, labelled, missed, bytesPerSample }) => ({ deviceId, answerRate, accuracy, labelled, missed, bytesPerSample }))).toEqual(
      want.per.map((d) => ({ ...d, answerRate: expect.closeTo(d.answerRate, 12), accuracy: d.accuracy === null ? null : expect.closeTo(d.accuracy, 12), bytesPerSample: expect.closeTo(d.bytesPerSample, 9) })),
    );
  });

  it("counts only a window's samples, and a stream's late labels as the same run's own", () => {
    const want = byHand(events, 20, 39);
    for (const log of [events, asStream(events)]) {
      const got = deviceSide('run', log, { fromSample: 20, toSample: 39 });
      expect(got.samples).toBe(20);
      expect(got.samplesWithMisses).toBe(want.withMiss);
      expect(got.devices.map((d) => [d.deviceId, d.labelled, d.missed])).toEqual(want.per.map((d) => [d.deviceId, d.labelled, d.missed]));
      got.devices.forEach((d, j) => {
        expect(d.accuracy).toBeCloseTo(want.per[j].accuracy as number, 12);
        expect(d.bytesPerSample).toBeCloseTo(want.per[j].bytesPerSample, 9);
      });
    }
  });
});
