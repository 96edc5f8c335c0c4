import type { SessionList, SessionListQuery, SessionView } from '@ddnn/contracts';
import { api } from './api';

/**
 * A page of sessions with their summaries. List rows carry them; a row without one (an API that leaves
 * summaries out of lists) is fetched on its own, a few at a time.
 */
export async function sessionsWithSummaries(q: SessionListQuery & { limit: number; offset: number }): Promise<SessionList> {
  const list = await api.sessions(q);
  const items: SessionView[] = new Array(list.items.length);
  let next = 0;
  const worker = async () => {
    while (next < list.items.length) {
      const i = next++;
      const row = list.items[i];
      items[i] = row.summary ? row : await api.session(row.id).catch(() => row);
    }
  };
  await Promise.all(Array.from({ length: Math.min(6, list.items.length) }, worker));
  return { ...list, items };
}
