import { useCallback, useEffect, useRef, useState } from 'react';
import type { SessionView } from '@ddnn/contracts';
import { api } from '../../lib/api';
import { asError } from '../../lib/errors';

/**
 * A session as GET /api/sessions/:id returns it, with `refresh` to read it again. The summary is folded server-side
 * from the log, so the page refetches whenever the feed says something changed: calls during a read coalesce into
 * one more read half a second after it, however many arrived.
 */
export function useSessionView(id: string) {
  const [session, setSession] = useState<SessionView>();
  const [error, setError] = useState<Error>();
  const refetching = useRef<Promise<void> | null>(null);
  const again = useRef(false);
  const refresh = useCallback(() => {
    if (refetching.current) {
      again.current = true;
      return;
    }
    refetching.current = api
      .session(id)
      .then((s) => {
        setSession(s);
        setError(undefined);
      })
      .catch((e: unknown) => setError(asError(e)))
      .finally(() => {
        refetching.current = null;
        if (again.current) {
          again.current = false;
          setTimeout(refresh, 500);
        }
      });
  }, [id]);
  useEffect(refresh, [refresh]);
  return { session, setSession, error, setError, refresh };
}
