import type { StoredEvent } from '@ddnn/contracts';

/**
 * The session an event belongs to, or null for events outside sessions. The summary itself is folded by
 * `foldSessionSummary` (libs/contracts), the one fold the API also runs to the head of the log.
 */
export function sessionOf(event: StoredEvent): string | null {
  const id = (event.data as { sessionId?: unknown }).sessionId;
  return typeof id === 'string' ? id : null;
}
