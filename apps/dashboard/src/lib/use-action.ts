import { useState } from 'react';
import { asError } from './errors';

/**
 * An operator's action on a page (acknowledge, lock, rotate...): `run` calls it once at a time, then `onDone`
 * (reload what it changed); `busy` disables the buttons meanwhile and `error` holds the last failure.
 */
export function useAction(onDone: () => void): { busy: boolean; error: Error | null; run: (what: () => Promise<unknown>) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const run = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
      onDone();
    } catch (e) {
      setError(asError(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}
