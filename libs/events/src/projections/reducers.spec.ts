import { emptySessionSummary, foldSessionEvents, foldSessionSummary, storedEventBuilder, type StoredEvent } from '@ddnn/contracts';
import { deviceRunTallies, devicesOf, emptyDeviceStatus, foldDeviceEvents, withoutRunShare } from './device-status';
import { sessionOf } from './session-summary';

const stored = storedEventBuilder({ streamId: 'session-s' });

describe('session summary reducer (the projection applies foldSessionSummary)', () => {
  it('counts live exits, accuracy over labelled samples, non-shadow bytes per link and device answers/misses', () => {
    const sessionId = 's';
    const events = [
      stored('SampleStarted', { sessionId, sampleIndex: 0, sampleId: 'a', label: 1 }, '2026-01-01T00:00:00.000Z'),
      stored('SectionEvaluated', { sessionId, sampleIndex: 0, tier: 'device', node: 'd1', view: 0, probabilities: [0, 1], entropy: 0, latencyMs: 4, shadow: false }),
      stored('SectionEvaluated', { sessionId, sampleIndex: 0, tier: 'device', node: 'd1', view: 0, probabilities: [0, 1], entropy: 0, latencyMs: 8, shadow: false }),
      stored('SectionEvaluated', { sessionId, sampleIndex: 0, tier: 'cloud', node: 'cloud', probabilities: [0, 1], entropy: 0, latencyMs: 1, shadow: true }),
      stored('DeviceMissed', { sessionId, sampleIndex: 0, deviceId: 'd2', view: 1, stage: 'scores', deadlineMs: 50, reason: 'disconnected' }),
      stored('BytesTransferred', { sessionId, sampleIndex: 0, from: 'd1', to: 'local', kind: 'scores', bytes: 8, shadow: false }),
      stored('BytesTransferred', { sessionId, sampleIndex: 0, from: 'd1', to: 'local', kind: 'scores', bytes: 8, shadow: false }),
      stored('BytesTransferred', { sessionId, sampleIndex: 0, from: 'd1', to: 'cloud', kind: 'features', bytes: 99, shadow: true }),
      stored('ExitDecided', { sessionId, sampleIndex: 0, tier: 'local', eta: 0.1, threshold: 0.5, policy: 'entropy', exited: true, prediction: 1, label: 1, shadow: false }),
      stored('ExitDecided', { sessionId, sampleIndex: 1, tier: 'local', eta: 0.9, threshold: 0.5, policy: 'entropy', exited: false, prediction: 0, label: 1, shadow: false }),
      stored('ExitDecided', { sessionId, sampleIndex: 1, tier: 'cloud', eta: 0.2, threshold: null, policy: 'entropy', exited: true, prediction: 0, label: 1, shadow: false }),
      stored('ExitDecided', { sessionId, sampleIndex: 2, tier: 'cloud', eta: 0.2, threshold: null, policy: 'entropy', exited: true, prediction: 2, label: null, shadow: false }),
      stored('ExitDecided', { sessionId, sampleIndex: 2, tier: 'cloud', eta: 0.2, threshold: null, policy: 'entropy', exited: true, prediction: 2, label: 2, shadow: true }),
      stored('SessionAborted', { sessionId, reason: 'stop', samplesDone: 3 }, '2026-01-01T00:00:02.500Z'),
    ];
    expect(events.every((e) => sessionOf(e) === sessionId)).toBe(true);
    const p = events.reduce(foldSessionSummary, emptySessionSummary(sessionId));
    expect(p.samplesStarted).toBe(1);
    expect(p.samplesDecided).toBe(3);
    expect(p.labelled).toBe(2);
    expect(p.correct).toBe(1);
    expect(p.accuracy).toBe(0.5);
    expect(p.exits).toEqual({ local: { exited: 1, labelled: 1, correct: 1 }, edge: { exited: 0, labelled: 0, correct: 0 }, cloud: { exited: 2, labelled: 1, correct: 0 } });
    expect(p.bytes).toEqual({ total: 16, shadowTotal: 99, perSample: 16 / 3, links: [{ from: 'd1', to: 'local', kind: 'scores', messages: 2, bytes: 16 }] });
    expect(p.devices).toEqual({
      d1: { view: 0, answered: 2, missed: 0, missedByReason: { timeout: 0, disconnected: 0, error: 0, invalid: 0, skipped: 0 }, meanLatencyMs: 6, latencyMsTotal: 12 },
      d2: { view: 1, answered: 0, missed: 1, missedByReason: { timeout: 0, disconnected: 1, error: 0, invalid: 0, skipped: 0 }, meanLatencyMs: null, latencyMsTotal: 0 },
    });
    expect(p.missed).toBe(1);
    expect(p).toMatchObject({ status: 'aborted', abortReason: 'stop', durationMs: null, events: events.length, checkpoint: events[events.length - 1].checkpoint });
  });

  it('does not touch the summary it is given', () => {
    const empty = emptySessionSummary('s');
    const copy = structuredClone(empty);
    foldSessionSummary(empty, stored('SampleStarted', { sessionId: 's', sampleIndex: 0, sampleId: 'a', label: null }));
    expect(empty).toEqual(copy);
  });

  it('folds a run of events at once as it folds them one by one, whatever the split, leaving each input summary alone', () => {
    const sessionId = 'st';
    const run = storedEventBuilder({ streamId: 'stream-st' });
    const events = [
      run('StreamStarted', {
        sessionId, modelId: 'm', mode: 'production', classes: ['a', 'b'], rate: 5, topology: { devices: [{ deviceId: 'd1', view: 0 }, { deviceId: 'd2', view: 1 }] },
        policy: { kind: 'entropy', thresholds: { local: 0.5 } }, deadlineMs: 100, captureToleranceMs: 50, messageSizes: { scoresBytes: 8, featuresBytes: 16, rawBytes: 64 },
      }),
      run('SampleLabelled', { sessionId, sampleIndex: 1, label: 1, labelledAt: 1 }),
      ...[0, 1, 2].flatMap((i) => [
        run('SampleStarted', { sessionId, sampleIndex: i, sampleId: `x${i}`, label: null }),
        run('SectionEvaluated', { sessionId, sampleIndex: i, tier: 'device', node: 'd1', view: 0, probabilities: [0.3, 0.7], entropy: 0.8, latencyMs: 3 + i, shadow: false }),
        run('DeviceMissed', { sessionId, sampleIndex: i, deviceId: 'd2', view: 1, stage: 'scores', deadlineMs: 100, reason: i ? 'timeout' : 'invalid' }),
        run('BytesTransferred', { sessionId, sampleIndex: i, from: 'd1', to: 'local', kind: 'scores', bytes: 8, shadow: false }),
        run('BytesTransferred', { sessionId, sampleIndex: i, from: 'd1', to: 'cloud', kind: 'features', bytes: 16, shadow: i !== 2 }),
        run('ExitDecided', { sessionId, sampleIndex: i, tier: 'local', eta: 0.2, threshold: 0.5, policy: 'entropy', exited: true, prediction: 1, label: null, shadow: false }),
      ]),
      run('SampleLabelled', { sessionId, sampleIndex: 0, label: 0, labelledAt: 2 }),
      run('SessionDevicesAbsent', { sessionId, deviceIds: ['d2', 'd3'], waitedMs: 10, fromSample: 0, resumed: false }),
      run('SessionDevicesAbsent', { sessionId, deviceIds: ['d3', 'd4'], waitedMs: 10, fromSample: 3, resumed: true }),
    ] as StoredEvent[];
    const oneByOne = events.reduce(foldSessionSummary, emptySessionSummary(sessionId));
    expect(oneByOne).toMatchObject({ kind: 'stream', samplesDecided: 3, labelled: 2, correct: 1, missed: 3, ranWithout: ['d2', 'd3', 'd4'], pendingLabels: {} });
    // A label for a sample not decided yet waits; once the stream has ended it never will count.
    const waiting = foldSessionSummary(oneByOne, run('SampleLabelled', { sessionId, sampleIndex: 9, label: 1, labelledAt: 3 }));
    expect(waiting.pendingLabels).toEqual({ 9: 1 });
    const ended = foldSessionSummary(waiting, run('SessionCompleted', { sessionId, samples: 3, durationMs: 10 }));
    expect(ended).toMatchObject({ status: 'completed', pendingLabels: {}, labelsReceived: waiting.labelsReceived, labelled: 2 });
    expect(oneByOne.bytes).toMatchObject({ total: 40, shadowTotal: 32 });
    expect(oneByOne.devices.d2.missedByReason).toMatchObject({ invalid: 1, timeout: 2 });
    for (const size of [1, 2, 5, events.length]) {
      let s = deepFreeze(emptySessionSummary(sessionId));
      for (let i = 0; i < events.length; i += size) s = deepFreeze(foldSessionEvents(s, events.slice(i, i + size)));
      expect(s).toEqual(oneByOne);
    }
  });
});

/** Freezes a value and everything in it: the fold throws (strict mode) if it writes to a summary it was given. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

describe('device status reducer', () => {
  it('tracks registration, connectivity and deployed sections', () => {
    const evs = [
      stored('DeviceRegistered', { deviceId: 'd', name: 'Cam', role: 'end-device', view: 2, profileId: 'p', capabilities: {}, simulated: false }, '2026-01-01T00:00:00.000Z'),
      stored('DeviceConnected', { deviceId: 'd', node: 'n1', remoteAddress: null }, '2026-01-01T00:00:01.000Z'),
      stored('ModelDeployed', { deviceId: 'd', modelId: 'm', modelVersion: '1', section: 'device-2', bytes: 100 }, '2026-01-01T00:00:02.000Z'),
      stored('ModelDeployed', { deviceId: 'd', modelId: 'm', modelVersion: '2', section: 'device-2', bytes: 120 }, '2026-01-01T00:00:03.000Z'),
      stored('DeviceWentInactive', { deviceId: 'd', lastActivityAt: '2026-01-01T00:00:03.000Z', timeoutMs: 1000 }, '2026-01-01T00:00:05.000Z'),
    ];
    let s = emptyDeviceStatus('d');
    for (const e of evs) {
      expect(devicesOf(e)).toEqual(['d']);
      s = foldDeviceEvents(s, [e]);
    }
    expect(s).toMatchObject({ name: 'Cam', view: 2, registered: true, connectivity: 'inactive', node: 'n1', lastActivityAt: '2026-01-01T00:00:03.000Z' });
    // Heard from again on its connection: active, without a connect.
    const revived = stored('DeviceBecameActive', { deviceId: 'd', node: 'n2', silentForMs: 7000 }, '2026-01-01T00:00:10.000Z');
    expect(devicesOf(revived)).toEqual(['d']);
    expect(foldDeviceEvents(s, [revived])).toMatchObject({ connectivity: 'active', node: 'n2', lastActivityAt: '2026-01-01T00:00:10.000Z', connects: 1 });
    // A batch folded at once is the events applied one by one, and leaves the status it started from alone.
    const start = emptyDeviceStatus('d');
    expect(foldDeviceEvents(start, evs)).toEqual(s);
    expect(start).toEqual(emptyDeviceStatus('d'));
    expect(s.sections).toEqual([{ section: 'device-2', modelId: 'm', modelVersion: '2', bytes: 120, deployedAt: '2026-01-01T00:00:03.000Z' }]);
    const back = foldDeviceEvents(s, [stored('SectionEvaluated', { sessionId: 'x', sampleIndex: 0, tier: 'device', node: 'd', view: 2, probabilities: [1], entropy: 0, latencyMs: 1, shadow: false }, '2026-01-01T00:00:09.000Z')]);
    expect(back).toMatchObject({ connectivity: 'active', lastActivityAt: '2026-01-01T00:00:09.000Z', answered: 1, connects: 1, disconnects: 0 });
    const misses = [
      stored('DeviceMissed', { sessionId: 'x', sampleIndex: 1, deviceId: 'd', view: 2, stage: 'scores', deadlineMs: 50, reason: 'timeout' }),
      stored('DeviceMissed', { sessionId: 'x', sampleIndex: 2, deviceId: 'd', view: 2, stage: 'scores', deadlineMs: 50, reason: 'skipped' }),
    ];
    const missed = foldDeviceEvents(back, misses);
    const gone = foldDeviceEvents(missed, [stored('DeviceDisconnected', { deviceId: 'd', node: 'n1', reason: 'bye' })]);
    // A skipped capture is counted with the misses and apart as not captured (missTally splits them).
    expect(gone).toMatchObject({ connectivity: 'disconnected', node: null, lastDisconnectReason: 'bye', answered: 1, missed: 2, notCaptured: 1, connects: 1, disconnects: 1 });
    const [tally] = deviceRunTallies([stored('SectionEvaluated', { sessionId: 'x', sampleIndex: 0, tier: 'device', node: 'd', view: 2, probabilities: [1], entropy: 0, latencyMs: 1, shadow: false }), ...misses]).values();
    expect(tally).toEqual({ deviceId: 'd', runId: 'x', answered: 1, missed: 2, notCaptured: 1 });
    expect(withoutRunShare(gone, tally)).toMatchObject({ answered: 0, missed: 0, notCaptured: 0 });
    // A status stored before notCaptured existed (rewound by its migration, but read by a node still catching up).
    const older: Partial<typeof gone> = { ...gone };
    delete older.notCaptured;
    expect(withoutRunShare(older as typeof gone, { answered: 1, missed: 1, notCaptured: 1 }).notCaptured).toBe(0);
    // A shadow evaluation is not a live answer.
    const shadow = stored('SectionEvaluated', { sessionId: 'x', sampleIndex: 2, tier: 'device', node: 'd', view: 2, probabilities: [1], entropy: 0, latencyMs: 1, shadow: true });
    expect(devicesOf(shadow)).toEqual([]);
  });

  it("counts each device's own live sections of a sample's one SectionsEvaluated", () => {
    const section = (node: string, tier: 'device' | 'local' = 'device', shadow = false) => ({ tier, node, probabilities: [1], entropy: 0, latencyMs: 1, shadow });
    const e = stored(
      'SectionsEvaluated',
      { sessionId: 'x', sampleIndex: 0, sections: [section('d'), section('e'), section('f', 'device', true), section('local', 'local')] },
      '2026-01-01T00:00:09.000Z',
    );
    expect(devicesOf(e)).toEqual(['d', 'e']);
    expect(foldDeviceEvents(emptyDeviceStatus('d'), [e])).toMatchObject({ answered: 1, lastActivityAt: '2026-01-01T00:00:09.000Z' });
    // Read as the one event it is, a device without a live section in it is untouched.
    const other = foldDeviceEvents(emptyDeviceStatus('f'), [e]);
    expect(other).toMatchObject({ answered: 0, lastActivityAt: null });
  });
});
