import { emptyGapTotals, missTally, type StoredEvent } from '@ddnn/contracts';
import { figuresOfSummary, figuresOfTotals, latestDecisions, sampleBounds, windowBounds, windowEvents, windowGaps, windowSummary } from './stream-window';

const exit = (sampleIndex: number, o: { exited?: boolean; shadow?: boolean } = {}) =>
  ({ type: 'ExitDecided', data: { sampleIndex, exited: o.exited ?? true, shadow: o.shadow ?? false } }) as unknown as StoredEvent;

describe('stream windows', () => {
  it("counts the labels of the window's own samples, not those posted in it for samples decided before it", () => {
    const run = 'r';
    const at = (type: string, data: Record<string, unknown>) => ({ type, streamId: `stream-${run}`, data: { sessionId: run, ...data } }) as unknown as StoredEvent;
    const decision = { tier: 'local', prediction: 1 };
    const events = [
      // Started just before the window, decided in it: its label counts.
      at('ExitDecided', { sampleIndex: 4, tier: 'local', eta: 0.1, threshold: 0.5, policy: 'p', exited: true, prediction: 0, label: null, shadow: false }),
      at('SampleLabelled', { sampleIndex: 4, label: 0, labelledAt: 1, decision: { tier: 'local', prediction: 0 } }),
      at('SampleStarted', { sampleIndex: 5, sampleId: 's5', label: null }),
      at('ExitDecided', { sampleIndex: 5, tier: 'local', eta: 0.1, threshold: 0.5, policy: 'p', exited: true, prediction: 1, label: null, shadow: false }),
      at('SampleLabelled', { sampleIndex: 5, label: 1, labelledAt: 1, decision }),
      // Decided an hour before the window, labelled now.
      at('SampleLabelled', { sampleIndex: 2, label: 0, labelledAt: 2, decision }),
    ];
    const s = windowSummary(run, events);
    expect([s.samplesDecided, s.labelled, s.correct]).toEqual([2, 2, 2]);
  });

  it("reads a window's figures alike from its events and from the rollup's totals (a window too long to read)", () => {
    const run = 'r';
    const at = (type: string, data: Record<string, unknown>) => ({ type, streamId: `stream-${run}`, data: { sessionId: run, ...data } }) as unknown as StoredEvent;
    const sample = (i: number, tier: 'local' | 'cloud', prediction: number, label: number) => [
      at('SampleStarted', { sampleIndex: i, sampleId: `s${i}`, label: null }),
      at('SectionsEvaluated', { sampleIndex: i, sections: [{ tier: 'device', node: 'd0', view: 0, probabilities: [1, 0], entropy: 0, latencyMs: 1, shadow: false }] }),
      at('DeviceMissed', { sampleIndex: i, deviceId: 'd1', view: 1, stage: 'scores', deadlineMs: 10, reason: i % 2 ? 'skipped' : 'timeout' }),
      at('ExitDecided', { sampleIndex: i, tier, eta: 0.1, threshold: 0.5, policy: 'p', exited: true, prediction, label: null, shadow: false }),
      at('MessagesTransferred', { sampleIndex: i, messages: [{ from: 'd0', to: 'local', kind: 'scores', bytes: 12, shadow: false }] }),
      at('SampleLabelled', { sampleIndex: i, label, labelledAt: 1, decision: { tier, prediction } }),
    ];
    const events = [...sample(1, 'local', 0, 0), ...sample(2, 'cloud', 1, 0), ...sample(3, 'local', 1, 1), at('SampleStarted', { sampleIndex: 4, sampleId: 's4', label: null })];
    const fromEvents = figuresOfSummary(windowSummary(run, events));
    const fromTotals = figuresOfTotals({
      runId: run, from: 0, to: 60_000, samples: 4, decided: 3, unanswered: 0, exits: { local: 2, edge: 0, cloud: 1 },
      labelled: 3, correct: 2, bytes: 36, messages: 3, misses: missTally(3, 3, 2), gaps: emptyGapTotals(),
    });
    expect(fromTotals).toEqual(fromEvents);
    expect(fromEvents).toMatchObject({ decided: 3, triggered: 4, accuracy: 2 / 3, localExitRate: 2 / 3, bytesPerSample: 12, misses: { missed: 1, notCaptured: 2 } });
  });

  it("a window's gaps are those overlapping it, from its own events and the stream's latest (a window inside an outage showed none)", () => {
    const t = Date.parse('2026-12-07T14:30:00Z');
    const outage = { cause: 'outage' as const, from: t + 28_000, to: t + 60_000, missedTriggers: 63, nextSample: 900 };
    const backlog = { cause: 'backlog' as const, from: t + 100_000, to: t + 130_000, missedTriggers: 12, nextSample: 1000 };
    const inside = { from: new Date(t + 35_000).toISOString(), to: new Date(t + 58_000).toISOString() };
    // Logged at the resume, after the window: only the stream's latest gaps know it.
    expect(windowGaps(undefined, [outage, backlog], inside)).toEqual({ missedTriggers: { outage: 63, backlog: 0, stall: 0 }, outages: 1, outageMs: 32_000, recent: [outage], partial: false });
    // In both lists once.
    const read = { missedTriggers: { outage: 63, backlog: 12, stall: 0 }, outages: 1, outageMs: 32_000, recent: [outage, backlog] };
    expect(windowGaps(read, [outage, backlog], { from: new Date(t).toISOString() })?.recent).toEqual([outage, backlog]);
    expect(windowGaps(read, [outage, backlog], { from: new Date(t + 200_000).toISOString() })).toBeUndefined();
  });

  it("a window too long to read counts its gaps from the rollup's totals and lists those it knows", () => {
    const t = Date.parse('2026-12-07T14:30:00Z');
    const backlog = { cause: 'backlog' as const, from: t + 100_000, to: t + 130_000, missedTriggers: 12, nextSample: 1000 };
    const all = { from: new Date(t).toISOString(), to: new Date(t + 86_400_000).toISOString() };
    // Three outages and backlogs logged over the day; the page's read and the stream's latest hold one of them.
    const totals = { missedTriggers: { outage: 90, backlog: 40, stall: 2 }, outages: 3, outageMs: 75_000 };
    expect(windowGaps(undefined, [backlog], all, totals)).toEqual({ ...totals, recent: [backlog], partial: true });
    // None listed, yet counted: still said.
    expect(windowGaps(undefined, [], all, totals)).toEqual({ ...totals, recent: [], partial: true });
    // Totals that count less than the list (a gap logged after the window's end, listed by its span): the list's.
    expect(windowGaps(undefined, [backlog], all, emptyGapTotals())).toMatchObject({ missedTriggers: { backlog: 12 }, partial: false });
    expect(windowGaps(undefined, [], all, emptyGapTotals())).toBeUndefined();
    // Field by field: the rollup's larger backlog count, the list's larger stall count.
    const stall = { cause: 'stall' as const, from: t + 200_000, to: t + 201_000, missedTriggers: 5, nextSample: 1200 };
    const mixed = windowGaps(undefined, [backlog, stall], all, { missedTriggers: { outage: 0, backlog: 30, stall: 1 }, outages: 0, outageMs: 0 });
    expect(mixed).toMatchObject({ missedTriggers: { outage: 0, backlog: 30, stall: 5 }, partial: true, recent: [backlog, stall] });
  });

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

  const at = (n: number, t: string, type = 'SampleStarted', data: Record<string, unknown> = {}) =>
    ({ type, eventId: `e${n}`, checkpoint: `9:${n}`, createdAt: t, data: { sampleIndex: n, ...data } }) as unknown as StoredEvent;

  it('a window is the REST read plus the live events after its last one, inside [from, to), sliding with its start', () => {
    const read = [at(1, '2026-12-05T17:55:10Z'), at(2, '2026-12-05T17:56:00Z')];
    // The feed repeats event 2 (delivered during the read) and brings 3 and 4; 5 is past a custom window's end.
    const live = [at(2, '2026-12-05T17:56:00Z'), at(3, '2026-12-05T17:58:00Z'), at(4, '2026-12-05T17:59:00Z'), at(5, '2026-12-05T18:01:00Z')];
    const ids = (es: StoredEvent[]) => es.map((e) => e.eventId);
    expect(ids(windowEvents(read, live, { from: '2026-12-05T17:55:00Z' }))).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    expect(ids(windowEvents(read, live, { from: '2026-12-05T17:55:00Z', to: '2026-12-05T18:00:00Z' }))).toEqual(['e1', 'e2', 'e3', 'e4']);
    // A minute later the 5-minute window starts at 17:56: event 1 has left it.
    expect(ids(windowEvents(read, live, { from: '2026-12-05T17:56:00Z' }))).toEqual(['e2', 'e3', 'e4', 'e5']);
    // An empty read takes every live event in the window.
    expect(ids(windowEvents([], live, { from: '2026-12-05T17:58:30Z' }))).toEqual(['e4', 'e5']);
  });

  it('latest decisions: newest first, answering exits only, with the label that arrived later', () => {
    const t = '2026-12-05T17:56:00Z';
    const decided = (n: number, o: Record<string, unknown> = {}) =>
      at(n, t, 'ExitDecided', { tier: 'local', eta: 0.1, prediction: 1, label: null, exited: true, shadow: false, ...o });
    const events = [decided(1), decided(2, { exited: false }), decided(2, { tier: 'cloud' }), decided(3, { shadow: true }), decided(3), at(1, t, 'SampleLabelled', { label: 0 })];
    expect(latestDecisions(events, 10).map((r) => [r.sampleIndex, r.tier, r.label])).toEqual([
      [3, 'local', null],
      [2, 'cloud', null],
      [1, 'local', 0],
    ]);
    expect(latestDecisions(events, 2).map((r) => r.sampleIndex)).toEqual([3, 2]);
  });
});
