import { storedEventBuilder, streamIds, type StoredEvent } from '@ddnn/contracts';
import { simulatedSession } from '../../test/fixtures';
import { foldRollup, mergeCells, parseSampleKey, sampleKey, samplesTouched, type RollupCell, type RollupCellDelta, type SampleRollupState } from './metrics-rollup-fold';

/** Two sessions' events, interleaved sample by sample, a second apart (so they span two one-minute buckets). */
function twoSessions(opts: { perMessageTraffic?: boolean; perSectionEvents?: boolean } = {}): { events: StoredEvent[]; truth: ReturnType<typeof simulatedSession>['truth'][] } {
  const runs = ['r1', 'r2'].map((id, k) => ({ id, ...simulatedSession(id, 3 + k, 40, opts) }));
  const builders = runs.map((r) => storedEventBuilder({ streamId: streamIds.session(r.id) }));
  const events: StoredEvent[] = [];
  const t0 = Date.parse('2026-01-01T00:00:30.000Z');
  const at = (i: number) => new Date(t0 + i * 1000).toISOString();
  runs.forEach((r, k) => events.push(builders[k](r.start, at(0))));
  for (let i = 0; i < 40; i++) runs.forEach((r, k) => r.perSample[i].forEach((e) => events.push(builders[k](e, at(i)))));
  runs.forEach((r, k) => events.push(builders[k](r.end, at(40))));
  return { events, truth: runs.map((r) => r.truth) };
}

const where = (c: RollupCellDelta) => JSON.stringify([c.resolution, c.bucket, c.runId, c.scope, c.key]);

/** Folds `events` in batches of `size` as the subscription does: stored states carried over, cells summed by place. */
function foldInBatches(events: StoredEvent[], size: number): { cells: Map<string, RollupCell>; states: Map<string, SampleRollupState> } {
  const cells = new Map<string, RollupCell>();
  const stored = new Map<string, SampleRollupState>();
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    const states = new Map<string, SampleRollupState>();
    for (const t of samplesTouched(batch)) {
      const s = stored.get(sampleKey(t.runId, t.sampleIndex));
      // The database hands out a fresh copy each time.
      if (s) states.set(sampleKey(t.runId, t.sampleIndex), JSON.parse(JSON.stringify(s)) as SampleRollupState);
    }
    const delta = foldRollup(batch, states);
    for (const c of delta.cells) cells.set(where(c), mergeCells(cells.get(where(c)) ?? {}, c.cell));
    for (const [k, s] of delta.samples) {
      if (s === null) stored.delete(k);
      else stored.set(k, s);
    }
    for (const runId of delta.ended) for (const k of [...stored.keys()]) if (parseSampleKey(k).runId === runId) stored.delete(k);
  }
  return { cells, states: stored };
}

describe('metrics rollup fold', () => {
  it('counts what each run did, the same at both resolutions', () => {
    const { events, truth } = twoSessions();
    const { cells } = foldInBatches(events, events.length);
    const runTotal = (runId: string, resolution: number): RollupCell => {
      const sum: RollupCell = {};
      for (const [k, c] of cells) {
        const [res, , run, scope] = JSON.parse(k) as [number, number, string, string];
        if (res === resolution && run === runId && scope === 'run') mergeCells(sum, c);
      }
      return sum;
    };
    ['r1', 'r2'].forEach((runId, k) => {
      const t = truth[k];
      const minute = runTotal(runId, 60_000);
      expect(minute.samples).toBe(t.samples);
      expect(minute.decided).toBe(t.answered);
      expect(minute.labelled).toBe(t.labelled);
      expect(minute.correct).toBe(t.correct);
      expect(minute.answered).toBe(Object.values(t.answeredByDevice).reduce((a, b) => a + b, 0));
      expect(minute.missed).toBe(Object.values(t.missedByDevice).reduce((a, b) => a + b, 0));
      expect(minute.bytes).toBe(Object.values(t.bytesByLink).reduce((a, b) => a + b, 0));
      expect(runTotal(runId, 3_600_000)).toEqual(minute);
    });
    // 40 samples a second apart from :30 fill two one-minute buckets per run.
    const minuteBuckets = new Set([...cells.keys()].map((k) => JSON.parse(k) as [number, number]).filter(([res]) => res === 60_000).map(([, b]) => b));
    expect(minuteBuckets.size).toBe(2);
  });

  it('sums to the same cells and forgets the same samples whatever the batch size (a rebuild equals the live rollup)', () => {
    const { events } = twoSessions();
    const whole = foldInBatches(events, events.length);
    for (const size of [1, 7, 50]) {
      const batched = foldInBatches(events, size);
      expect(batched.cells).toEqual(whole.cells);
      expect(batched.states).toEqual(whole.states);
    }
    // Sessions end: nothing is left waiting for a label.
    expect(whole.states.size).toBe(0);
  });

  it('counts a log with a SectionEvaluated per section (before SectionsEvaluated) into the same cells and states', () => {
    const today = twoSessions();
    const older = twoSessions({ perSectionEvents: true });
    expect(older.events.filter((e) => e.type === 'SectionEvaluated').length).toBeGreaterThan(older.events.length / 3);
    expect(today.events.some((e) => e.type === 'SectionEvaluated')).toBe(false);
    const a = foldInBatches(today.events, 50);
    const b = foldInBatches(older.events, 50);
    expect(b.cells).toEqual(a.cells);
    expect(b.states).toEqual(a.states);
  });

  it('counts a log with a BytesTransferred per message (before MessagesTransferred) into the same cells', () => {
    const today = twoSessions();
    const older = twoSessions({ perMessageTraffic: true });
    expect(older.events.length).toBeGreaterThan(today.events.length);
    const cells = foldInBatches(today.events, 50).cells;
    expect(foldInBatches(older.events, 50).cells).toEqual(cells);
    // Every message reached its link's cells: counted bytes by link, hour cells, equal what the session sent.
    const hourly = new Map<string, number>();
    for (const [k, c] of cells) {
      const [res, , run, scope, key] = JSON.parse(k) as [number, number, string, string, string];
      if (res === 3_600_000 && run === 'r1' && scope === 'link') hourly.set(key.replace('->', '>'), c.bytes ?? 0);
    }
    expect(Object.fromEntries(hourly)).toEqual(today.truth[0].bytesByLink);
  });

  it('counts agreement with the decision and with the peers\' one most-voted class, per device and summed per run', () => {
    const sessionId = 'agree';
    const at = '2026-01-01T00:00:10.000Z';
    const e = storedEventBuilder({ streamId: streamIds.session(sessionId) });
    const votesOf = [
      { prediction: 0, votes: [0, 0, 1, 1, 2] }, // peers of a 0: [0,1,1,2] -> 1; of a 1: [0,0,1,2] -> 0; of the 2: a tie
      { prediction: 1, votes: [1, 1, 1] }, // peers [1,1] -> 1
      { prediction: 2, votes: [2] }, // no peers
    ];
    const events = votesOf.flatMap(({ prediction, votes }, i) => [
      ...votes.map((v, k) =>
        e('SectionEvaluated', { sessionId, sampleIndex: i, tier: 'device', node: `d${k}`, view: k, probabilities: [0, 1, 2].map((c) => (c === v ? 0.8 : 0.1)), entropy: 0.5, latencyMs: 1, shadow: false }, at),
      ),
      e('ExitDecided', { sessionId, sampleIndex: i, tier: 'local', eta: 0.1, threshold: 0.5, policy: 'p', exited: true, prediction, label: null, shadow: false }, at),
    ]);
    const cells = foldRollup(events, new Map()).cells.filter((c) => c.resolution === 60_000);
    const pick = ({ agreeN, agree, peerAgreeN, peerAgree }: RollupCell) => ({ agreeN, agree, peerAgreeN, peerAgree });
    expect(pick(cells.find((c) => c.scope === 'run')!.cell)).toEqual({ agreeN: 9, agree: 6, peerAgreeN: 7, peerAgree: 3 });
    const device = (k: number) => pick(cells.find((c) => c.scope === 'device' && c.key === `d${k}`)!.cell);
    expect(device(0)).toEqual({ agreeN: 3, agree: 3, peerAgreeN: 2, peerAgree: 1 });
    expect(device(2)).toEqual({ agreeN: 2, agree: 1, peerAgreeN: 2, peerAgree: 1 });
    expect(device(4)).toEqual({ agreeN: 1, agree: 0, peerAgreeN: undefined, peerAgree: undefined });
  });

  it('counts samples without an answer apart from decided ones, and forgets what their sections left (a stream sample never decided)', () => {
    const sessionId = 'dark';
    const at = '2026-01-01T00:00:10.000Z';
    const e = storedEventBuilder({ streamId: streamIds.stream(sessionId) });
    const section = (i: number) =>
      e('SectionsEvaluated', { sessionId, sampleIndex: i, sections: [{ tier: 'device', node: 'd0', view: 0, probabilities: [0.5, 0.5], entropy: 1, latencyMs: 1, shadow: false }] }, at);
    const check = (i: number, exited: boolean) => e('ExitDecided', { sessionId, sampleIndex: i, tier: 'local', eta: 0.9, threshold: 0.5, policy: 'p', exited, prediction: 0, label: null, shadow: false }, at);
    const events = [
      section(0),
      check(0, true),
      // Its camera answered, then missed the features stage: no answer.
      section(1),
      check(1, false),
      e('DeviceMissed', { sessionId, sampleIndex: 1, deviceId: 'd0', view: 0, stage: 'features', deadlineMs: 100, reason: 'timeout' }, at),
      e('SampleUnanswered', { sessionId, sampleIndex: 1, label: null }, at),
      // No camera answered.
      e('SampleUnanswered', { sessionId, sampleIndex: 2, label: null }, at),
    ];
    for (const size of [1, events.length]) {
      const { cells, states } = foldInBatches(events, size);
      const run = [...cells].filter(([k]) => k.includes('"run"') && k.startsWith('[60000')).map(([, c]) => c);
      expect(run.map(({ decided, unanswered }) => ({ decided, unanswered }))).toEqual([{ decided: 1, unanswered: 2 }]);
      // Sample 0 waits for its label; sample 1's device vote is not kept for a decision that never comes.
      expect([...states.keys()]).toEqual([sampleKey(sessionId, 0)]);
    }
  });

  it('leaves its inputs alone: the stored states it was given and the events', () => {
    const { events } = twoSessions();
    const firstHalf = events.slice(0, 30);
    const states = new Map<string, SampleRollupState>();
    for (const [k, s] of foldRollup(firstHalf, new Map()).samples) if (s) states.set(k, s);
    const before = JSON.stringify([...states]);
    const eventsBefore = JSON.stringify(events);
    foldRollup(events.slice(30), states);
    expect(JSON.stringify([...states])).toBe(before);
    expect(JSON.stringify(events)).toBe(eventsBefore);
  });

  it('keys samples by run and index unambiguously, whatever the run id holds', () => {
    for (const [runId, i] of [['a#1', 2], ['a', 12], ['', 0], ['x#', 7]] as const) expect(parseSampleKey(sampleKey(runId, i))).toEqual({ runId, sampleIndex: i });
    expect(sampleKey('a#1', 2)).not.toBe(sampleKey('a', 12));
  });
});
