import type { EventCatalogue, EventType, NewEvent, StoredEvent } from './catalogue';

/** One payload with its type (and optionally its createdAt), as `storedEvents` takes them. */
export type TypedPayload = { [K in EventType]: [K, EventCatalogue[K]] | [K, EventCatalogue[K], string] }[EventType];

export interface StoredEventOptions {
  /** Stream of every event (default `session-test`). */
  streamId?: string;
  /** createdAt of events that do not give one (default the epoch). */
  createdAt?: string;
}

/**
 * Wraps payloads one at a time as the event store would return them: consecutive positions from 1 (per builder),
 * UUID-shaped event ids, one stream. For sessions built in memory, never read from the store (hand-built test
 * sessions); it lives here, beside StoredEvent, so that pure libraries' tests can use it too.
 */
export interface StoredEventBuilder {
  <K extends EventType>(type: K, data: EventCatalogue[K], createdAt?: string): StoredEvent;
  (event: NewEvent, createdAt?: string): StoredEvent;
}

export function storedEventBuilder(options: StoredEventOptions = {}): StoredEventBuilder {
  let position = 0;
  return ((...args: [EventType, unknown, string?] | [NewEvent, string?]): StoredEvent => {
    const [type, data, createdAt] = typeof args[0] === 'string' ? (args as [EventType, unknown, string?]) : [args[0].type, args[0].data, args[1] as string | undefined];
    position++;
    return {
      type,
      data,
      eventId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
      streamId: options.streamId ?? 'session-test',
      streamPosition: position,
      globalPosition: String(position),
      checkpoint: `1:${position}`,
      schemaVersion: 1,
      metadata: {},
      createdAt: createdAt ?? options.createdAt ?? new Date(0).toISOString(),
    } as StoredEvent;
  }) as StoredEventBuilder;
}

/** `storedEventBuilder` over a whole list. */
export function storedEvents(list: readonly TypedPayload[], options: StoredEventOptions = {}): StoredEvent[] {
  const stored = storedEventBuilder(options);
  return list.map(([type, data, createdAt]) => stored({ type, data } as NewEvent, createdAt));
}
