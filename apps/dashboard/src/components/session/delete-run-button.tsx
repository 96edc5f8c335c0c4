'use client';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { RunKind } from '@ddnn/contracts';
import { api } from '../../lib/api';
import { asError } from '../../lib/errors';

/**
 * "Delete run" on an ended run's page: asks first (the log goes for good), deletes the run, then goes back to the
 * runs list, done or still going (a long log: the list shows the run as `deleting` until it is gone). A refusal
 * (409: a node is still closing the run) goes to `onError`, for the page to show with its notes.
 */
export function DeleteRunButton({ kind, id, label, onError }: { kind: RunKind; id: string; label: string; onError: (e: Error | null) => void }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const remove = async () => {
    if (!window.confirm(`Delete ${label} with its whole log, summary and metrics? This cannot be undone; only a record that it was deleted stays.`)) return;
    setBusy(true);
    onError(null);
    try {
      await (kind === 'session' ? api.deleteSession(id) : api.deleteStream(id));
      router.push('/sessions');
    } catch (e) {
      onError(asError(e));
      setBusy(false);
    }
  };
  return (
    <button type="button" className="danger" data-testid="delete-run" disabled={busy} onClick={() => void remove()}>
      {busy ? 'Deleting…' : 'Delete run'}
    </button>
  );
}
