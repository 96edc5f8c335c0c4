import type { ConnectivitySpan, ConnectivityState, StoredEvent } from '@ddnn/contracts';

/** The events of a device's stream that connectivitySpans reads. */
export const CONNECTIVITY_EVENTS: ReadonlySet<string> = new Set(['DeviceConnected', 'DeviceDisconnected', 'DeviceWentInactive', 'DeviceBecameActive']);

/**
 * A device's link over [from, to) from its connectivity events (oldest first): connected from DeviceConnected,
 * inactive from DeviceWentInactive while connected (connected again at DeviceBecameActive), disconnected from
 * DeviceDisconnected; before the first event in view, the state the earlier events left (unknown when none).
 * Adjacent spans of one state merge.
 */
export function connectivitySpans(events: StoredEvent[], from: number, to: number): ConnectivitySpan[] {
  let state: ConnectivityState = 'unknown';
  let reason: string | undefined;
  const spans: ConnectivitySpan[] = [];
  let since = from;
  const close = (at: number) => {
    const end = Math.min(at, to);
    if (end <= since) return;
    const last = spans[spans.length - 1];
    if (last && last.state === state && last.to === since && last.reason === reason) last.to = end;
    else spans.push(reason === undefined ? { state, from: since, to: end } : { state, from: since, to: end, reason });
    since = end;
  };
  for (const e of events) {
    const at = Date.parse(e.createdAt);
    if (!Number.isFinite(at) || at >= to) break;
    let next: ConnectivityState = state;
    // An event that changes nothing (inactive while disconnected, say) keeps the span's reason, so it does not split it.
    let nextReason = reason;
    if (e.type === 'DeviceConnected') next = 'connected';
    else if (e.type === 'DeviceDisconnected') {
      next = 'disconnected';
      nextReason = e.data.reason;
    } else if (e.type === 'DeviceWentInactive') next = state === 'connected' ? 'inactive' : state;
    else if (e.type === 'DeviceBecameActive') next = state === 'inactive' ? 'connected' : state;
    else continue;
    if (at > since) close(at);
    state = next;
    reason = next === 'disconnected' ? nextReason : undefined;
  }
  close(to);
  return spans;
}
