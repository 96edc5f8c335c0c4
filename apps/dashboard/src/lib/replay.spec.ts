import { sampleTraffic, type SectionEvaluated, type SectionOutput } from '@ddnn/contracts';
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
