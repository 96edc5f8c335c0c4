import type { EventCatalogue, EventType, StoredEvent } from '@ddnn/contracts';

/** Wraps payloads as stored events with consecutive positions, for hand-built test sessions. */
export function stored(list: { [K in EventType]: [K, EventCatalogue[K]] }[EventType][]): StoredEvent[] {
  return list.map(([type, data], i) => ({
    type,
    data,
    eventId: `e-${i}`,
    streamId: 'session-test',
    streamPosition: i + 1,
    globalPosition: String(i + 1),
    checkpoint: `1:${i + 1}`,
    schemaVersion: 1,
    metadata: {},
    createdAt: new Date(0).toISOString(),
  })) as StoredEvent[];
}
