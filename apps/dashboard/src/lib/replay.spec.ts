import { sampleTraffic, type SectionEvaluated, type SectionOutput, type StoredEvent } from '@ddnn/contracts';
import { syntheticSessionEvents } from '@ddnn/policies';
import { buildReplay, clampPosition } from './replay';

describe('buildReplay', () => {
  const events = syntheticSessionEvents({ sessionId: 's1', samples: 40, seed: 3, mode: 'research', thresholds: { local: 0.6 }, missScores: 0.1 });
  const model = buildReplay(events);

  it('has one frame per decided sample, each with its live exit and counted bytes from the log', () => {
    const exits = events.filter((e) => e.type === 'ExitDecided' && e.data.exited && !e.data.shadow);
    expect(model.frames).toHaveLength(exits.length);
    model.frames.forEach((f, i) => {
      const x = exits[i].data as { sampleIndex: number; tier: string };
      expect(f.sampleIndex).toBe(x.sampleIndex);
      expect(f.exit!.tier).toBe(x.tier);
      const traffic = events.map(sampleTraffic).filter((t) => t?.sampleIndex === f.sampleIndex);
      expect(traffic).toHaveLength(1);
      const live = traffic[0]!.messages.filter((m) => !m.shadow);
      expect(f.bytes).toBe(live.reduce((s, m) => s + m.bytes, 0));
      expect(f.bytes).toBeGreaterThan(0);
    });
    expect(model.started?.sessionId).toBe('s1');
    expect(model.end?.kind).toBe('completed');
  });

  it('replays a log with one BytesTransferred per message (logs before MessagesTransferred) the same', () => {
    const old = syntheticSessionEvents({ sessionId: 's1', samples: 40, seed: 3, mode: 'research', thresholds: { local: 0.6 }, missScores: 0.1, perMessageTraffic: true });
    expect(old.some((e) => e.type === 'BytesTransferred') && !old.some((e) => e.type === 'MessagesTransferred')).toBe(true);
    expect(buildReplay(old)).toEqual(model);
  });

  it('replays a log with one SectionEvaluated per section (logs before SectionsEvaluated) the same', () => {
    const old = syntheticSessionEvents({ sessionId: 's1', samples: 40, seed: 3, mode: 'research', thresholds: { local: 0.6 }, missScores: 0.1, perSectionEvents: true });
    expect(old.some((e) => e.type === 'SectionEvaluated') && !old.some((e) => e.type === 'SectionsEvaluated')).toBe(true);
    // The old events' sections also carry their sample's ids; the frames are the same otherwise.
    const ownFields = (x: SectionOutput): SectionOutput => {
      const { sessionId: _s, sampleIndex: _i, ...own } = x as SectionEvaluated;
      return own;
    };
    const replay = buildReplay(old);
    expect({ ...replay, frames: replay.frames.map((f) => ({ ...f, sections: f.sections.map(ownFields), shadowSections: f.shadowSections.map(ownFields) })) }).toEqual(model);
  });

  it('accumulates accuracy, local exit rate and bytes in decision order', () => {
    const last = model.cumulative[model.cumulative.length - 1];
    const labelled = model.frames.filter((f) => f.exit!.label !== null);
    const right = labelled.filter((f) => f.exit!.prediction === f.exit!.label).length;
    expect(last.accuracy).toBeCloseTo(right / labelled.length, 12);
    expect(last.localExitRate).toBeCloseTo(model.frames.filter((f) => f.exit!.tier === 'local').length / model.frames.length, 12);
    expect(last.bytesTotal).toBe(model.frames.reduce((s, f) => s + f.bytes, 0));
    for (let i = 1; i < model.cumulative.length; i++) expect(model.cumulative[i].bytesTotal).toBeGreaterThanOrEqual(model.cumulative[i - 1].bytesTotal);
  });

  it('keeps shadow sections apart from the live path and records misses', () => {
    expect(model.frames.some((f) => f.shadowSections.length > 0)).toBe(true);
    expect(model.frames.every((f) => f.sections.every((s) => !s.shadow))).toBe(true);
    expect(model.frames.some((f) => f.missed.length > 0)).toBe(true);
  });

  it("labels a stream's samples with the SampleLabelled events that came after them, the first one per sample", () => {
    // The same run as a stream logs it: samples and exits unlabelled, each label later; one label came before its
    // sample started, and one sample got a second, different label (the API refuses those: the first is final).
    const labelOf = new Map<number, number>();
    const labelled = (sampleIndex: number, label: number, n: number) =>
      ({ type: 'SampleLabelled', eventId: `l${n}`, checkpoint: `9:${n}`, createdAt: '', data: { sessionId: 's1', sampleIndex, label, labelledAt: 0 } }) as unknown as StoredEvent;
    const unlabelled = events.map((e) => {
      if (e.type !== 'SampleStarted' && e.type !== 'ExitDecided') return e;
      if (e.type === 'SampleStarted' && e.data.label !== null) labelOf.set(e.data.sampleIndex, e.data.label);
      return { ...e, data: { ...e.data, label: null } } as StoredEvent;
    });
    const [early, ...later] = [...labelOf];
    const stream = [labelled(early[0], early[1], 0), ...unlabelled, ...later.map(([i, l], n) => labelled(i, l, n + 1)), labelled(later[0][0], later[0][1] + 1, 999)];
    expect(buildReplay(unlabelled).cumulative.every((c) => c.accuracy === null)).toBe(true);
    const replay = buildReplay(stream);
    expect(replay.frames.map((f) => f.label)).toEqual(model.frames.map((f) => f.label));
    expect(replay.frames.every((f) => f.label !== null)).toBe(true);
    expect(replay.cumulative).toEqual(model.cumulative);
    expect(replay.undecided).toBe(model.undecided);
  });

  it('counts samples no device answered apart, without a frame; a label of a sample with no frame adds no sample', () => {
    const unanswered = { type: 'SampleUnanswered', eventId: 'u', checkpoint: '9:1', createdAt: '', data: { sessionId: 's1', sampleIndex: 40 } } as unknown as StoredEvent;
    const label = { type: 'SampleLabelled', eventId: 'l', checkpoint: '9:2', createdAt: '', data: { sessionId: 's1', sampleIndex: 41, label: 0, labelledAt: 0 } } as unknown as StoredEvent;
    const started = { ...(events.find((e) => e.type === 'SampleStarted') as StoredEvent), eventId: 'x' } as StoredEvent;
    const replay = buildReplay([...events, { ...started, data: { ...started.data, sampleIndex: 40, sampleId: '40' } } as StoredEvent, unanswered, label]);
    expect(replay.unanswered).toBe(1);
    expect(replay.frames).toHaveLength(model.frames.length);
    expect(replay.undecided).toBe(model.undecided);
  });

  it('replays an unfinished log without inventing decisions', () => {
    const cut = events.slice(0, Math.floor(events.length / 2));
    const partial = buildReplay(cut);
    expect(partial.end).toBeNull();
    expect(partial.frames.length).toBeLessThan(model.frames.length);
    expect(buildReplay([]).frames).toEqual([]);
  });
});

describe('clampPosition', () => {
  it('keeps a URL position on the timeline', () => {
    expect(clampPosition(0, 10)).toBe(1);
    expect(clampPosition(42, 10)).toBe(10);
    expect(clampPosition(Number('x'), 10)).toBe(1);
    expect(clampPosition(3.4, 10)).toBe(3);
    expect(clampPosition(5, 0)).toBe(0);
  });
});
