import type { NewEvent } from '@ddnn/contracts';
import { FencedAppendError, newEventId, retryWhileUnavailable, type BatchingWriter, type EventStore } from '@ddnn/events';
import type { EventSink } from './ports';

/**
 * Runs one append of a session, retrying with backoff while the database is unreachable, for at most
 * `outageLimitMs` from the first failure. `warn` hears of the outage once when it starts and once when it ends.
 */
export async function appendThroughOutages<T>(append: () => Promise<T>, outageLimitMs: number, warn: (message: string) => void): Promise<T> {
  let retried = 0;
  let started = 0;
  const result = await retryWhileUnavailable(append, {
    outageLimitMs,
    onRetry: (e, attempt) => {
      retried = attempt;
      if (attempt === 1) {
        started = performance.now();
        warn(`database unavailable (${(e as Error).message}); retrying the append for up to ${outageLimitMs} ms`);
      }
    },
  });
  if (retried) warn(`append went through after ${retried} retries (${Math.round(performance.now() - started)} ms)`);
  return result;
}

/**
 * A run's sink: appends through the node's batching writer, retried through outages. Events without an id get
 * one in place first (the events are the caller's, written once: no copy of every event of every sample), so a
 * retry of a commit whose answer was lost carries the same ids and writes nothing twice. With the owner's `fence`
 * (the run's log stream's token, EventStore.takeFence), appends after another node took the run fail with a
 * FencedAppendError, never retried; but when an earlier attempt's answer was lost, that attempt may have committed
 * before the takeover (which then read it and goes on after it): the events are looked up, and if they are in the
 * log the sample was logged, not dropped.
 */
export function outageProofSink(
  db: { writer: BatchingWriter; store: Pick<EventStore, 'containsEvent'>; outageLimitMs: number },
  stream: string,
  warn: (message: string) => void,
  fence?: number,
): EventSink {
  const options = fence === undefined ? {} : { fence };
  return {
    append: async (events: NewEvent[]) => {
      for (const e of events) e.eventId ??= newEventId();
      let attempts = 0;
      try {
        await appendThroughOutages(
          () => {
            attempts++;
            return db.writer.append(stream, events, options);
          },
          db.outageLimitMs,
          warn,
        );
      } catch (e) {
        if (!(e instanceof FencedAppendError) || attempts < 2 || events.length === 0) throw e;
        // A batch commits whole, so its first event tells. A failed look-up keeps the conservative answer: dropped.
        const logged = await db.store.containsEvent(stream, events[0].eventId as string).catch(() => false);
        if (!logged) throw e;
        warn(`an append whose answer was lost had committed before another node took the run over: logged once, not dropped`);
      }
    },
  };
}
