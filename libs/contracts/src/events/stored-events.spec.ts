import { storedEventBuilder, storedEvents } from './stored-events';

describe('stored events', () => {
  it('numbers a list as one stream from position 1 with distinct UUID-shaped ids', () => {
    const events = storedEvents([
      ['SessionAborted', { sessionId: 's', reason: 'stop', samplesDone: 0 }],
      ['SessionAborted', { sessionId: 's', reason: 'stop', samplesDone: 1 }, '2026-01-01T00:00:00.000Z'],
    ], { streamId: 'session-s' });
    expect(events.map((e) => [e.streamPosition, e.globalPosition, e.checkpoint, e.streamId])).toEqual([[1, '1', '1:1', 'session-s'], [2, '2', '1:2', 'session-s']]);
    expect(events[0].eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(2);
    expect(events.map((e) => e.createdAt)).toEqual([new Date(0).toISOString(), '2026-01-01T00:00:00.000Z']);
  });

  it('gives each builder its own positions', () => {
    const a = storedEventBuilder();
    const b = storedEventBuilder();
    a('SessionAborted', { sessionId: 's', reason: 'stop', samplesDone: 0 });
    expect(a('SessionAborted', { sessionId: 's', reason: 'stop', samplesDone: 0 }).streamPosition).toBe(2);
    expect(b('SessionAborted', { sessionId: 's', reason: 'stop', samplesDone: 0 }).streamPosition).toBe(1);
  });
});

describe('storedEventBuilder with a NewEvent', () => {
  it('takes the type and data of the event', () => {
    const stored = storedEventBuilder();
    const e = stored({ type: 'SessionAborted', data: { sessionId: 's', reason: 'x', samplesDone: 3 } }, '2026-01-02T00:00:00.000Z');
    expect(e).toMatchObject({ type: 'SessionAborted', data: { samplesDone: 3 }, streamPosition: 1, createdAt: '2026-01-02T00:00:00.000Z' });
  });
});
