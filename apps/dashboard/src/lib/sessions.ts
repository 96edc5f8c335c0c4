import type { SessionList, SessionStatus, SessionView } from '@ddnn/contracts';
import { api } from './api';

/**
 * A page of sessions with their summaries: list rows carry no summary (it is folded per session), so
 * the visible rows are fetched one by one, a few at a time.
 */
export async function sessionsWithSummaries(q: { status?: SessionStatus; limit: number; offset: number }): Promise<SessionList> {
  const list = await api.sessions(q);
  const items: SessionView[] = new Array(list.items.length);
  let next = 0;
  const worker = async () => {
    while (next < list.items.length) {
      const i = next++;
      items[i] = await api.session(list.items[i].id).catch(() => list.items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(6, list.items.length) }, worker));
  return { ...list, items };
}
