import type { SessionStarted, StoredEvent, StreamStarted } from '@ddnn/contracts';
import { runTableEvents } from './run-table-events';
import { sessionSamplesFromEvents, type TableEvent } from './session-table';
import { syntheticSessionEvents } from './synthetic';

/** A session's events as a stream logs them: a StreamStarted, samples without labels, labels later on. */
function asStream(events: StoredEvent[], labelled: (sampleIndex: number) => boolean): TableEvent[] {
  const out: TableEvent[] = [];
  const labels: TableEvent[] = [];
  for (const e of events) {
    if (e.type === 'SessionStarted') {
      const s: SessionStarted = e.data;
      const start: StreamStarted = { sessionId: s.sessionId, modelId: s.modelId, classes: s.classes, topology: s.topology, policy: s.policy, mode: s.mode, deadlineMs: s.deadlineMs, rate: 2, captureToleranceMs: 100, messageSizes: s.messageSizes };
      out.push({ type: 'StreamStarted', data: start });
    } else if (e.type === 'SampleStarted') {
      out.push({ type: 'SampleStarted', data: { ...e.data, label: null } });
      if (e.data.label !== null && labelled(e.data.sampleIndex)) labels.push({ type: 'SampleLabelled', data: { sessionId: e.data.sessionId, sampleIndex: e.data.sampleIndex, label: e.data.label, labelledAt: 1 } });
    } else if (e.type === 'ExitDecided') out.push({ type: 'ExitDecided', data: { ...e.data, label: null } });
    else out.push(e as TableEvent);
  }
  return [...out, ...labels];
}

describe('runTableEvents', () => {
  const session = syntheticSessionEvents({ samples: 40, seed: 3, missScores: 0.1 });

  it('gives a stream whose labels came late the table of the same session with its labels', () => {
    const fromStream = sessionSamplesFromEvents(runTableEvents(asStream(session, () => true)));
    const fromSession = sessionSamplesFromEvents(session);
    expect(fromStream.n).toBe(40);
    expect([...fromStream.label]).toEqual([...fromSession.label]);
    expect([...fromStream.device.answered]).toEqual([...fromSession.device.answered]);
    expect([...fromStream.device.probabilities]).toEqual([...fromSession.device.probabilities]);
  });

  it('leaves a sample no label reached unlabelled (-1)', () => {
    const t = sessionSamplesFromEvents(runTableEvents(asStream(session, (i) => i % 2 === 0)));
    expect([...t.label].filter((_, i) => i % 2 === 1)).toEqual(Array(20).fill(-1));
    expect([...t.label].filter((_, i) => i % 2 === 0).every((l) => l >= 0)).toBe(true);
  });

  it('passes a session through unchanged', () => {
    expect(runTableEvents(session as TableEvent[])).toEqual(session);
  });
});
