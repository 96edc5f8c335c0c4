'use client';
import Link from 'next/link';
import type { SessionView } from '@ddnn/contracts';
import type { PickedRun } from '../../lib/compare';
import { shortId } from '../../lib/format';
import { livePolicyLabel } from '../../lib/policy';
import { Empty } from '../ui';

/**
 * Which runs to compare: recorded sessions, whole (checkboxes), and windows of streams' samples, which come from a
 * stream's page ("Compare policies over this window") and can be dropped here.
 */
export function RunPicker({
  sessions,
  picked,
  onChange,
  nameOf,
}: {
  sessions: SessionView[];
  picked: PickedRun[];
  onChange: (p: PickedRun[]) => void;
  /** A run's name once known (its stream's, after a comparison). */
  nameOf: (id: string) => string | undefined;
}) {
  const windows = picked.filter((r) => r.window);
  const whole = new Set(picked.filter((r) => !r.window).map((r) => r.id));
  const toggle = (id: string, on: boolean) => onChange(on ? [...picked, { id, window: null }] : picked.filter((r) => r.window || r.id !== id));
  return (
    <>
      {sessions.length === 0 && windows.length === 0 && (
        <Empty title="No recorded session to compare yet.">
          <Link href="/sessions/new">Start a session</Link> (research mode logs every exit, so every policy can be evaluated), or open a stream and compare policies over a
          window of it.
        </Empty>
      )}
      {windows.length > 0 && (
        <ul className="check-list" data-testid="picked-windows" style={{ marginBottom: 12 }}>
          {windows.map((r) => (
            <li key={r.id} className="inline">
              <Link href={`/stream?id=${r.id}`}>{nameOf(r.id) ?? <span className="mono">{shortId(r.id)}</span>}</Link>{' '}
              samples {r.window?.fromSample}–{r.window?.toSample}{' '}
              <button type="button" className="secondary" onClick={() => onChange(picked.filter((x) => x !== r))} aria-label={`drop the window of ${shortId(r.id)}`}>
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="check-list" style={{ marginBottom: 12 }}>
        {sessions.map((s) => (
          <label key={s.id} className="inline">
            <input type="checkbox" checked={whole.has(s.id)} onChange={(e) => toggle(s.id, e.target.checked)} />
            {s.name ? <strong>{s.name}</strong> : <span className="mono">{shortId(s.id)}</span>} {s.dataset} · {livePolicyLabel(s.policy)} · {s.mode} · {s.samplesDone} samples
            {s.configuration?.link ? ` · link ${s.configuration.link.latencyMs} ms` : ''}
          </label>
        ))}
      </div>
    </>
  );
}
