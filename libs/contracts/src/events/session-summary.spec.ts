import type { NewEvent } from './catalogue';
import { bytesByLink, emptySessionSummary, foldSessionSummary } from './session-summary';
import { storedEventBuilder } from './stored-events';

const stored = storedEventBuilder({ streamId: 'session-s' });

const sid = 's';
const log: NewEvent[] = [
  { type: 'SampleStarted', data: { sessionId: sid, sampleIndex: 0, sampleId: 'a', label: 0 } },
  { type: 'SectionEvaluated', data: { sessionId: sid, sampleIndex: 0, tier: 'device', node: 'd0', view: 0, probabilities: [1, 0], entropy: 0, latencyMs: 1, shadow: false } },
  { type: 'DeviceMissed', data: { sessionId: sid, sampleIndex: 0, deviceId: 'd1', view: 1, stage: 'scores', deadlineMs: 10, reason: 'timeout' } },
  { type: 'BytesTransferred', data: { sessionId: sid, sampleIndex: 0, from: 'd0', to: 'local', kind: 'scores', bytes: 12, shadow: false } },
  { type: 'ExitDecided', data: { sessionId: sid, sampleIndex: 0, tier: 'local', eta: 0.1, threshold: 0.5, policy: 'p', exited: true, prediction: 0, label: 0, shadow: false } },
  { type: 'BytesTransferred', data: { sessionId: sid, sampleIndex: 0, from: 'd0', to: 'cloud', kind: 'features', bytes: 128, shadow: true } },
  { type: 'ExitDecided', data: { sessionId: sid, sampleIndex: 0, tier: 'cloud', eta: 0.2, threshold: null, policy: 'p', exited: true, prediction: 1, label: 0, shadow: true } },
  { type: 'SampleStarted', data: { sessionId: sid, sampleIndex: 1, sampleId: 'b', label: 1 } },
  { type: 'BytesTransferred', data: { sessionId: sid, sampleIndex: 1, from: 'd0', to: 'local', kind: 'scores', bytes: 12, shadow: false } },
  { type: 'ExitDecided', data: { sessionId: sid, sampleIndex: 1, tier: 'local', eta: 0.9, threshold: 0.5, policy: 'p', exited: false, prediction: 0, label: 1, shadow: false } },
  { type: 'BytesTransferred', data: { sessionId: sid, sampleIndex: 1, from: 'd0', to: 'cloud', kind: 'features', bytes: 128, shadow: false } },
  { type: 'ExitDecided', data: { sessionId: sid, sampleIndex: 1, tier: 'cloud', eta: 0.3, threshold: null, policy: 'p', exited: true, prediction: 0, label: 1, shadow: false } },
];

describe('foldSessionSummary (the API on demand, the stored projection by subscription)', () => {
  const events = log.map((e) => stored(e));
  const summary = events.reduce(foldSessionSummary, emptySessionSummary(sid));

  it('counts decided samples by their answering exit, ignoring shadow work', () => {
    expect(summary).toMatchObject({
      sessionId: sid,
      samplesStarted: 2,
      samplesDecided: 2,
      labelled: 2,
      correct: 1,
      accuracy: 0.5,
      exits: { local: { exited: 1, labelled: 1, correct: 1 }, edge: { exited: 0, labelled: 0, correct: 0 }, cloud: { exited: 1, labelled: 1, correct: 0 } },
      missed: 1,
      events: events.length,
      checkpoint: events[events.length - 1].checkpoint,
    });
  });

  it('counts bytes per link and kind, shadow bytes apart', () => {
    expect(summary.bytes.links).toEqual([
      { from: 'd0', to: 'cloud', kind: 'features', messages: 1, bytes: 128 },
      { from: 'd0', to: 'local', kind: 'scores', messages: 2, bytes: 24 },
    ]);
    expect(bytesByLink(summary)).toEqual({ 'd0->local': 24, 'd0->cloud': 128 });
    expect(summary.bytes).toMatchObject({ total: 152, shadowTotal: 128, perSample: 76 });
    expect(summary.devices).toEqual({
      d0: { view: 0, answered: 1, missed: 0, missedByReason: { timeout: 0, disconnected: 0, error: 0, invalid: 0, skipped: 0 }, meanLatencyMs: 1, latencyMsTotal: 1 },
      d1: { view: 1, answered: 0, missed: 1, missedByReason: { timeout: 1, disconnected: 0, error: 0, invalid: 0, skipped: 0 }, meanLatencyMs: null, latencyMsTotal: 0 },
    });
  });

  it('sums a link over its payload kinds in bytesByLink', () => {
    const more = stored({ type: 'BytesTransferred', data: { sessionId: sid, sampleIndex: 2, from: 'd0', to: 'local', kind: 'features', bytes: 100, shadow: false } });
    expect(bytesByLink(foldSessionSummary(summary, more))).toEqual({ 'd0->local': 124, 'd0->cloud': 128 });
  });

  it('gives the same result folded in pieces as in one pass, and leaves its input untouched', () => {
    for (let cut = 0; cut <= events.length; cut++) {
      const half = events.slice(0, cut).reduce(foldSessionSummary, emptySessionSummary(sid));
      const frozen = JSON.stringify(half);
      expect(events.slice(cut).reduce(foldSessionSummary, half)).toEqual(summary);
      expect(JSON.stringify(half)).toBe(frozen);
    }
  });
});
