import type { StoredEvent } from '@ddnn/contracts';

/**
 * Applies a batch of the log to a read model with rows keyed by run, deletions included, in log order: the events
 * before a RunDeleted are applied, then the run's rows are dropped, then the rest. The deletion itself drops the rows
 * in its transaction (run-deletion.ts); dropping them again here covers a subscriber that folds the deleted events
 * after that commit, read before it (this process's shared tail of the log keeps what it read). RunDeleted comes
 * after all of them in the log order (its transaction began after the run ended), so the result is what a rebuild
 * from the log, which no longer holds them, gives.
 */
export async function applyWithRunDeletions(
  events: StoredEvent[],
  apply: (events: StoredEvent[]) => Promise<void>,
  drop: (runId: string) => Promise<void>,
): Promise<void> {
  let from = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.type !== 'RunDeleted') continue;
    if (i > from) await apply(events.slice(from, i));
    await drop(e.data.runId);
    from = i + 1;
  }
  if (from < events.length) await apply(from === 0 ? events : events.slice(from));
}
