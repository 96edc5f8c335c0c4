'use client';
import type { RunKind, SessionStatus } from '@ddnn/contracts';
import { api } from '../lib/api';
import { shortId } from '../lib/format';

/** A run as a picker lists it: a stream or a session, by its name (its short id when it has none). */
export interface RunChoice {
  id: string;
  kind: RunKind;
  name: string;
  status: SessionStatus;
}

/** The newest `limit` streams and sessions each: streams first, the runs an operator watches live. */
export async function listRuns(limit: number): Promise<RunChoice[]> {
  const [streams, sessions] = await Promise.all([api.streams({ limit }), api.sessions({ limit })]);
  const choice = (kind: RunKind) => (r: { id: string; name: string; status: SessionStatus }): RunChoice => ({ id: r.id, kind, name: r.name || shortId(r.id), status: r.status });
  return [...streams.items.map(choice('stream')), ...sessions.items.map(choice('session'))];
}

const GROUPS: [RunKind, string][] = [
  ['stream', 'Streams'],
  ['session', 'Sessions'],
];

/**
 * Picks a run (or all of them, ''), streams and sessions apart. A selected run the lists do not hold (older than
 * their newest, or still loading) keeps an option of its own, so the select never claims "All runs" for it.
 */
export function RunSelect({ runs = [], value, onChange }: { runs: RunChoice[] | undefined; value: string; onChange: (id: string) => void }) {
  return (
    <select name="run" value={value} onChange={(e) => onChange(e.target.value)} style={{ maxWidth: 260 }}>
      <option value="">All runs</option>
      {value && !runs.some((r) => r.id === value) && <option value={value}>{shortId(value)}</option>}
      {GROUPS.map(([kind, label]) => {
        const items = runs.filter((r) => r.kind === kind);
        return (
          items.length > 0 && (
            <optgroup key={kind} label={label}>
              {items.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} · {r.status}
                </option>
              ))}
            </optgroup>
          )
        );
      })}
    </select>
  );
}
