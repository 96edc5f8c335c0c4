import type { LinkMessage, NewEvent, SectionOutput } from '@ddnn/contracts';

/** Small, valid events of the catalogue for tests and the benchmark's shape. */
export const ev = {
  sampleStarted: (sessionId: string, sampleIndex: number, label: number | null = sampleIndex % 3): NewEvent<'SampleStarted'> => ({
    type: 'SampleStarted',
    data: { sessionId, sampleIndex, sampleId: `s${sampleIndex}`, label },
  }),
  sessionAborted: (sessionId: string, reason = 'operator'): NewEvent<'SessionAborted'> => ({
    type: 'SessionAborted',
    data: { sessionId, reason, samplesDone: 0 },
  }),
  deviceConnected: (deviceId: string, node = 'api-1'): NewEvent<'DeviceConnected'> => ({
    type: 'DeviceConnected',
    data: { deviceId, node, remoteAddress: null },
  }),
};

/** What a simulated session did, counted while generating it (independently of the projection code). */
export interface SimulatedSessionTruth {
  samples: number;
  answered: number;
  labelled: number;
  correct: number;
  exits: Record<'local' | 'edge' | 'cloud', number>;
  bytesByLink: Record<string, number>;
  answeredByDevice: Record<string, number>;
  /** DeviceMissed of each device, whatever the reason. */
  missedByDevice: Record<string, number>;
  /** Of missedByDevice, skipped captures (with `skippedCaptures`). */
  notCapturedByDevice: Record<string, number>;
}

/**
 * The events of one research-mode session over `devices` end devices: per sample SampleStarted, device
 * sections (or DeviceMissed), a local exit decision, a cloud decision (shadow on easy samples), then the sample's
 * messages: scores, and features (counted on hard samples, shadow on easy ones). `perMessageTraffic`: each message
 * its own BytesTransferred, in causal order, as sessions logged them before MessagesTransferred;
 * `perSectionEvents`: each device section its own SectionEvaluated, as sessions logged them before SectionsEvaluated;
 * `skippedCaptures`: the misses of even samples are skipped captures (nothing captured), the others timeouts.
 */
export function simulatedSession(
  sessionId: string,
  devices: number,
  samples: number,
  opts: { perMessageTraffic?: boolean; perSectionEvents?: boolean; /** Devices' ids (`<prefix>-dev<k>`; the session's id by default): runs that share devices. */ devicePrefix?: string; skippedCaptures?: boolean } = {},
): { perSample: NewEvent[][]; start: NewEvent; end: NewEvent; truth: SimulatedSessionTruth } {
  const ids = Array.from({ length: devices }, (_, d) => `${opts.devicePrefix ?? sessionId}-dev${d}`);
  const truth: SimulatedSessionTruth = {
    samples,
    answered: 0,
    labelled: 0,
    correct: 0,
    exits: { local: 0, edge: 0, cloud: 0 },
    bytesByLink: {},
    answeredByDevice: Object.fromEntries(ids.map((id) => [id, 0])),
    missedByDevice: Object.fromEntries(ids.map((id) => [id, 0])),
    notCapturedByDevice: Object.fromEntries(ids.map((id) => [id, 0])),
  };
  const addBytes = (from: string, to: string, bytes: number) => (truth.bytesByLink[`${from}>${to}`] = (truth.bytesByLink[`${from}>${to}`] ?? 0) + bytes);
  const start: NewEvent = {
    type: 'SessionStarted',
    data: {
      sessionId,
      modelId: 'm1',
      dataset: 'synthetic',
      split: 'test',
      classes: ['car', 'bus', 'person'],
      sampleCount: samples,
      topology: { devices: ids.map((deviceId, view) => ({ deviceId, view })) },
      policy: { kind: 'entropy', thresholds: { local: 0.8 } },
      mode: 'research',
      deadlineMs: 100,
      messageSizes: { scoresBytes: 12, featuresBytes: 32, rawBytes: 3072 },
    },
  };
  const perSample: NewEvent[][] = [];
  for (let i = 0; i < samples; i++) {
    const label = i % 5 === 4 ? null : i % 3;
    const out: NewEvent[] = [{ type: 'SampleStarted', data: { sessionId, sampleIndex: i, sampleId: `x${i}`, label } }];
    const messages: LinkMessage[] = [];
    const sections: SectionOutput[] = [];
    const send = (m: LinkMessage) => {
      messages.push(m);
      if (opts.perMessageTraffic) out.push({ type: 'BytesTransferred', data: { sessionId, sampleIndex: i, ...m } });
    };
    ids.forEach((deviceId, view) => {
      if ((i + view) % 7 === 3) {
        truth.missedByDevice[deviceId]++;
        const skipped = opts.skippedCaptures === true && i % 2 === 0;
        if (skipped) truth.notCapturedByDevice[deviceId]++;
        out.push({ type: 'DeviceMissed', data: { sessionId, sampleIndex: i, deviceId, view, stage: 'scores', deadlineMs: 100, reason: skipped ? 'skipped' : 'timeout' } });
        return;
      }
      truth.answeredByDevice[deviceId]++;
      const section: SectionOutput = { tier: 'device', node: deviceId, view, probabilities: [0.2, 0.3, 0.5], entropy: 0.9, latencyMs: 2 + view, shadow: false };
      if (opts.perSectionEvents) out.push({ type: 'SectionEvaluated', data: { sessionId, sampleIndex: i, ...section } });
      else sections.push(section);
      send({ from: deviceId, to: 'local', kind: 'scores', bytes: 12, shadow: false });
      addBytes(deviceId, 'local', 12);
    });
    if (sections.length > 0) out.push({ type: 'SectionsEvaluated', data: { sessionId, sampleIndex: i, sections } });
    const easy = i % 2 === 0;
    const prediction = i % 4 === 1 ? (i + 1) % 3 : i % 3;
    out.push({
      type: 'ExitDecided',
      data: { sessionId, sampleIndex: i, tier: 'local', eta: easy ? 0.3 : 0.9, threshold: 0.8, policy: 'entropy', exited: easy, prediction, label, shadow: false },
    });
    // Research mode: the cloud section also runs on easy samples, as shadow work.
    send({ from: ids[0], to: 'cloud', kind: 'features', bytes: 32, shadow: easy });
    out.push({
      type: 'ExitDecided',
      data: { sessionId, sampleIndex: i, tier: 'cloud', eta: 0.1, threshold: null, policy: 'entropy', exited: true, prediction, label, shadow: easy },
    });
    if (!opts.perMessageTraffic) out.push({ type: 'MessagesTransferred', data: { sessionId, sampleIndex: i, messages } });
    if (!easy) addBytes(ids[0], 'cloud', 32);
    const tier = easy ? 'local' : 'cloud';
    truth.exits[tier]++;
    truth.answered++;
    if (label !== null) {
      truth.labelled++;
      if (prediction === label) truth.correct++;
    }
    perSample.push(out);
  }
  const end: NewEvent = { type: 'SessionCompleted', data: { sessionId, samples, durationMs: 1234 } };
  return { perSample, start, end, truth };
}
