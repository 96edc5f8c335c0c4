import type { StoredEvent } from '@ddnn/contracts';
import { tinySession } from '../test/tiny-session';
import { sessionSamplesFromEvents } from './session-table';
import { syntheticSessionEvents } from './synthetic';

const mutate = (events: StoredEvent[], pick: (e: StoredEvent) => boolean, change: (data: Record<string, unknown>) => void) =>
  events.map((e) => {
    if (!pick(e)) return e;
    const data = { ...(e.data as unknown as Record<string, unknown>) };
    change(data);
    return { ...e, data } as unknown as StoredEvent;
  });

describe('sessionSamplesFromEvents', () => {
  it('builds typed columns: labels, exits, who answered, message sizes per link', () => {
    const t = sessionSamplesFromEvents(tinySession());
    expect(t.sessionId).toBe('tiny');
    expect([...t.label]).toEqual([0, 1, 1]);
    expect([...t.local.probabilities]).toEqual([0.9, 0.1, 0.6, 0.4, 0.55, 0.45]);
    expect([...t.cloud.computed]).toEqual([1, 1, 1]);
    expect([...t.device.answered]).toEqual([1, 1, 1, 0, 1, 1]);
    expect([...t.device.featuresSent]).toEqual([1, 1, 1, 0, 0, 1]);
    expect([...t.scoresTimedOut]).toEqual([0, 1, 0]);
    expect([...t.featuresTimedOut]).toEqual([0, 0, 0]);
    expect(t.edge).toBeNull();
    expect(t.links.map((l) => `${l.from}>${l.to}:${l.kind}:${l.bytes}`)).toEqual([
      'dev-0>local:scores:8', 'dev-0>cloud:features:16', 'dev-1>local:scores:8', 'dev-1>cloud:features:16',
      'dev-0>cloud:raw:100', 'dev-1>cloud:raw:100',
    ]);
  });

  it('routes features through edge nodes and reads their outputs', () => {
    const t = sessionSamplesFromEvents(syntheticSessionEvents({ samples: 5, devices: 4, edges: ['a', 'b'] }));
    expect(t.devices.map((d) => d.next)).toEqual(['a', 'b', 'a', 'b']);
    expect(t.edges).toEqual([{ name: 'a', devices: [0, 2] }, { name: 'b', devices: [1, 3] }]);
    expect([...t.edge!.computed]).toEqual([1, 1, 1, 1, 1]);
    expect(t.links.filter((l) => l.fromTier === 'edge').map((l) => [l.from, l.bytes])).toEqual([['a', 512], ['b', 512]]);
  });

  it('orders samples by index whatever the event order, and ignores unfinished ones', () => {
    const events = tinySession();
    const shuffled = [events[0], ...events.slice(1).reverse()];
    const t = sessionSamplesFromEvents(shuffled);
    expect([...t.sampleIndex]).toEqual([0, 1, 2]);
    expect([...t.label]).toEqual([0, 1, 1]);
  });

  it('rejects what it cannot analyze, naming the problem', () => {
    const events = tinySession();
    expect(() => sessionSamplesFromEvents(events.slice(1))).toThrow(/no SessionStarted/);
    const other = mutate(events, (e) => e.type === 'SessionStarted', (d) => (d.sessionId = 'other'));
    expect(() => sessionSamplesFromEvents([...events, other[0]])).toThrow(/several sessions \(tiny, other\)/);
    const shortRow = mutate(events, (e) => e.type === 'SectionEvaluated' && e.data.tier === 'cloud', (d) => (d.probabilities = [1]));
    expect(() => sessionSamplesFromEvents(shortRow)).toThrow(/sample 0 cloud cloud: expected 2 probabilities, got 1/);
    const stranger = mutate(events, (e) => e.type === 'SectionEvaluated' && e.data.node === 'dev-1', (d) => (d.node = 'dev-9'));
    expect(() => sessionSamplesFromEvents(stranger)).toThrow(/dev-9: device not in the session topology/);
    const badLabel = mutate(events, (e) => e.type === 'SampleStarted' && e.data.sampleIndex === 2, (d) => (d.label = 5));
    expect(() => sessionSamplesFromEvents(badLabel)).toThrow(/sample 2 has label 5, outside 0..1/);
    const noEdgeSize = mutate(syntheticSessionEvents({ samples: 2, edges: ['a'] }), (e) => e.type === 'SessionStarted', (d) => {
      const { edgeFeaturesBytes: _dropped, ...sizes } = d.messageSizes as Record<string, number>;
      d.messageSizes = sizes;
    });
    expect(() => sessionSamplesFromEvents(noEdgeSize)).toThrow(/edgeFeaturesBytes is missing/);
  });
});
