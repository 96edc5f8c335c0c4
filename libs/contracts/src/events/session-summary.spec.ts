import { sampleTraffic, type NewEvent } from './catalogue';
import { bytesByLink, emptySessionSummary, foldSessionSummary, RECENT_DECISIONS, RECENT_GAPS } from './session-summary';
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

/** The same log as the engine writes it today: each sample's messages in one MessagesTransferred after its checks. */
function oneEventPerSample(events: NewEvent[]): NewEvent[] {
  const out: NewEvent[] = [];
  const flush = (i: number) => {
    const messages = events.flatMap((e) => (e.type === 'BytesTransferred' && e.data.sampleIndex === i ? [sampleTraffic(e)!.messages[0]] : []));
    out.push({ type: 'MessagesTransferred', data: { sessionId: sid, sampleIndex: i, messages } });
  };
  events.forEach((e, k) => {
    if (e.type !== 'BytesTransferred') out.push(e);
    const next = events[k + 1];
    if (e.type !== 'SessionStarted' && 'sampleIndex' in e.data && (!next || next.type === 'SampleStarted')) flush(e.data.sampleIndex);
  });
  return out;
}

describe('foldSessionSummary (the API on demand, the stored projection by subscription)', () => {
  const events = log.map((e) => stored(e));
  const summary = events.reduce(foldSessionSummary, emptySessionSummary(sid));

  it('reads a sample\'s messages from one MessagesTransferred as from a BytesTransferred per message (older logs)', () => {
    const today = oneEventPerSample(log);
    expect(today.filter((e) => e.type === 'MessagesTransferred')).toHaveLength(2);
    expect(today.some((e) => e.type === 'BytesTransferred')).toBe(false);
    const folded = today.map((e) => stored(e)).reduce(foldSessionSummary, emptySessionSummary(sid));
    // Only the count of events (and so the checkpoint) differs: 2 events where there were 4.
    expect({ ...folded, events: 0, checkpoint: '' }).toEqual({ ...summary, events: 0, checkpoint: '' });
    expect(folded.events).toBe(summary.events - 2);
  });

  it("reads a sample's sections from one SectionsEvaluated as from a SectionEvaluated per section (older logs)", () => {
    const section = (node: string, latencyMs: number, shadow = false) => ({ tier: 'device' as const, node, view: Number(node.slice(1)), probabilities: [0.5, 0.5], entropy: 1, latencyMs, shadow });
    const outputs = [section('d0', 2), section('d1', 4), section('d2', 9, true)];
    const older = outputs.map((o) => stored({ type: 'SectionEvaluated', data: { sessionId: sid, sampleIndex: 0, ...o } }));
    const today = [stored({ type: 'SectionsEvaluated', data: { sessionId: sid, sampleIndex: 0, sections: outputs } })];
    const fold = (events: typeof today) => events.reduce(foldSessionSummary, emptySessionSummary(sid));
    expect({ ...fold(today), events: 0, checkpoint: '' }).toEqual({ ...fold(older), events: 0, checkpoint: '' });
    expect(Object.entries(fold(today).devices).map(([id, d]) => [id, d.answered, d.meanLatencyMs])).toEqual([
      ['d0', 1, 2],
      ['d1', 1, 4],
    ]);
  });

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

describe('foldSessionSummary on a stream: labels arriving after the fact', () => {
  const rid = 'r';
  const streamStored = storedEventBuilder({ streamId: 'stream-r' });
  const started: NewEvent = {
    type: 'StreamStarted',
    data: {
      sessionId: rid,
      modelId: 'm',
      classes: ['a', 'b', 'c'],
      topology: { devices: [{ deviceId: 'd0', view: 0 }] },
      policy: { kind: 'entropy', thresholds: { local: 0.5 } },
      mode: 'production',
      deadlineMs: 100,
      rate: 2,
      captureToleranceMs: 200,
      messageSizes: { scoresBytes: 12, featuresBytes: 4, rawBytes: 3072 },
    },
  };
  const sample = (i: number, tier: 'local' | 'cloud', prediction: number): NewEvent[] => [
    { type: 'SampleStarted', data: { sessionId: rid, sampleIndex: i, sampleId: `live-${i}`, label: null, triggeredAt: 1_800_000_000_000 + i * 500 } },
    { type: 'ExitDecided', data: { sessionId: rid, sampleIndex: i, tier: 'local', eta: 0.1, threshold: 0.5, policy: 'p', exited: tier === 'local', prediction, label: null, shadow: false } },
    ...(tier === 'cloud'
      ? [{ type: 'ExitDecided', data: { sessionId: rid, sampleIndex: i, tier: 'cloud', eta: 0.2, threshold: null, policy: 'p', exited: true, prediction, label: null, shadow: false } } as NewEvent]
      : []),
  ];
  const label = (i: number, l: number, decision?: { tier: 'local' | 'cloud'; prediction: number }): NewEvent => ({
    type: 'SampleLabelled',
    data: { sessionId: rid, sampleIndex: i, label: l, labelledAt: 1_800_000_100_000, ...(decision ? { decision } : {}) },
  });

  /** The oracle: per sample, its answering exit and its label, counted from scratch (independent of the fold). */
  function recount(events: NewEvent[]): { labelled: number; correct: number; accuracy: number | null } {
    const decided = new Map<number, number>();
    const labels = new Map<number, number>();
    for (const e of events) {
      if (e.type === 'ExitDecided' && !e.data.shadow && e.data.exited) decided.set(e.data.sampleIndex, e.data.prediction);
      if (e.type === 'SampleLabelled') labels.set(e.data.sampleIndex, e.data.label);
    }
    let labelled = 0;
    let correct = 0;
    for (const [i, l] of labels) {
      if (!decided.has(i)) continue;
      labelled++;
      if (decided.get(i) === l) correct++;
    }
    return { labelled, correct, accuracy: labelled ? correct / labelled : null };
  }

  const streamLog: NewEvent[] = [
    started,
    // A label posted before its sample is decided (pending), counted once it is.
    label(2, 1),
    ...sample(0, 'local', 0),
    ...sample(1, 'cloud', 2),
    // Labels of decided samples carry the decision the API found.
    label(0, 0, { tier: 'local', prediction: 0 }),
    ...sample(2, 'local', 1),
    // A label that raced its sample's commit (checked undecided, logged after ExitDecided): found in recentDecisions.
    label(1, 1),
    ...sample(3, 'cloud', 0),
    // Never decided (a gap left by a node that died with it in flight): stays pending, never counted.
    label(7, 2),
  ];

  it('counts each label exactly once, whatever the order of label and decision, as a recount from the log does', () => {
    const events = streamLog.map((e) => streamStored(e));
    const s = events.reduce(foldSessionSummary, emptySessionSummary(rid));
    const oracle = recount(streamLog);
    expect(oracle).toEqual({ labelled: 3, correct: 2, accuracy: 2 / 3 });
    expect({ labelled: s.labelled, correct: s.correct, accuracy: s.accuracy }).toEqual(oracle);
    expect(s).toMatchObject({ kind: 'stream', rate: 2, dataset: null, samplesStarted: 4, samplesDecided: 4, lastSampleIndex: 3, labelsReceived: 4, pendingLabels: { 7: 2 } });
    expect(s.exits.local).toEqual({ exited: 2, labelled: 2, correct: 2 });
    expect(s.exits.cloud).toEqual({ exited: 2, labelled: 1, correct: 0 });
  });

  it('folded in pieces equals folded at once, and the input summary is never changed', () => {
    const events = streamLog.map((e) => streamStored(e));
    const whole = events.reduce(foldSessionSummary, emptySessionSummary(rid));
    let s = emptySessionSummary(rid);
    for (const e of events) {
      const before = JSON.stringify(s);
      const next = foldSessionSummary(JSON.parse(before), e);
      expect(JSON.stringify(foldSessionSummary(s, e))).toBe(JSON.stringify(next));
      expect(JSON.stringify(s)).toBe(before);
      s = next;
    }
    expect(s).toEqual(whole);
  });

  it('counts a sample no device answered as unanswered: not decided, in no accuracy, its early label dropped', () => {
    const unanswered: NewEvent[] = [
      ...streamLog,
      { type: 'SampleStarted', data: { sessionId: rid, sampleIndex: 8, sampleId: 's8', label: null } },
      label(8, 1),
      { type: 'ExitDecided', data: { sessionId: rid, sampleIndex: 8, tier: 'local', eta: 1, threshold: 0.5, policy: 'p', exited: false, prediction: -1, label: null, shadow: false } },
      { type: 'SampleUnanswered', data: { sessionId: rid, sampleIndex: 8, label: null } },
      // Checked undecided by the API, logged after its SampleUnanswered: dropped too.
      { type: 'SampleStarted', data: { sessionId: rid, sampleIndex: 9, sampleId: 's9', label: null } },
      { type: 'ExitDecided', data: { sessionId: rid, sampleIndex: 9, tier: 'local', eta: 1, threshold: 0.5, policy: 'p', exited: false, prediction: -1, label: null, shadow: false } },
      { type: 'SampleUnanswered', data: { sessionId: rid, sampleIndex: 9, label: null } },
      label(9, 2),
    ];
    const s = unanswered.map((e) => streamStored(e)).reduce(foldSessionSummary, emptySessionSummary(rid));
    expect(s).toMatchObject({ samplesStarted: 6, samplesDecided: 4, unanswered: 2, labelled: 3, correct: 2, pendingLabels: { 7: 2 }, recentUnanswered: [8, 9] });
    // A summary stored before the field existed reads on from 0.
    const { unanswered: _absent, ...old } = emptySessionSummary(rid);
    expect(foldSessionSummary(old, streamStored(unanswered[unanswered.length - 2])).unanswered).toBe(1);
  });

  it("totals a stream's gaps by cause and keeps the latest few, never changing the summary it folds from", () => {
    const gap = (cause: 'outage' | 'backlog' | 'stall', from: number, to: number, missedTriggers: number, nextSample: number): NewEvent => ({
      type: 'StreamGap',
      data: { sessionId: rid, cause, from, to, missedTriggers, nextSample },
    });
    const before = [started, gap('outage', 1_000, 31_000, 59, 40), gap('backlog', 40_000, 100_000, 12, 300)].map((e) => streamStored(e)).reduce(foldSessionSummary, emptySessionSummary(rid));
    expect(before.gaps).toEqual({
      missedTriggers: { outage: 59, backlog: 12, stall: 0 },
      outages: 1,
      outageMs: 30_000,
      recent: [
        { cause: 'outage', from: 1_000, to: 31_000, missedTriggers: 59, nextSample: 40 },
        { cause: 'backlog', from: 40_000, to: 100_000, missedTriggers: 12, nextSample: 300 },
      ],
    });
    const copy = JSON.stringify(before);
    let s = before;
    for (let i = 0; i < RECENT_GAPS + 5; i++) s = foldSessionSummary(s, streamStored(gap('stall', 200_000 + i, 200_001 + i, 1, 400 + i)));
    expect(JSON.stringify(before)).toBe(copy);
    expect(s.gaps?.missedTriggers).toEqual({ outage: 59, backlog: 12, stall: RECENT_GAPS + 5 });
    expect(s.gaps?.recent).toHaveLength(RECENT_GAPS);
    // 27 gaps, the first 7 dropped: the outage, the backlog and five stalls.
    expect(s.gaps?.recent[0]).toMatchObject({ cause: 'stall', nextSample: 405 });
    // Nothing of gaps in a summary of a stream that had none, nor in one stored before they existed.
    expect(emptySessionSummary(rid).gaps).toBeUndefined();
  });

  it('remembers a bounded number of recent decisions', () => {
    const many: NewEvent[] = [started];
    for (let i = 0; i < RECENT_DECISIONS + 50; i++) many.push(...sample(i, 'local', 0));
    const s = many.map((e) => streamStored(e)).reduce(foldSessionSummary, emptySessionSummary(rid));
    expect(s.recentDecisions).toHaveLength(RECENT_DECISIONS);
    expect(s.recentDecisions?.[0].sampleIndex).toBe(50);
  });

  it('keeps sessions as they were: labels from SampleStarted, no recent decisions remembered', () => {
    const s = log.map((e) => stored(e)).reduce(foldSessionSummary, emptySessionSummary(sid));
    expect(s).toMatchObject({ kind: 'session', labelled: 2, correct: 1, recentDecisions: [], pendingLabels: {}, labelsReceived: 0 });
  });
});
