import type { LiveProgressMessage, SessionView } from '@ddnn/contracts';
import { Card } from '../ui';
import { fmtDuration, fmtTime } from '../../lib/format';

/** How many of its samples the session has done (the live feed's count when ahead of the row) and since when it runs. */
export function ProgressCard({ session, progress }: { session: SessionView; progress: LiveProgressMessage | undefined }) {
  const done = Math.max(session.samplesDone, progress?.samplesDone ?? 0);
  const total = session.sampleCount ?? progress?.sampleCount ?? null;
  const elapsed = session.startedAt ? (session.finishedAt ? new Date(session.finishedAt).getTime() : Date.now()) - new Date(session.startedAt).getTime() : null;
  return (
    <Card>
      <div style={{ display: 'flex', justifyContent: 'space-between', marginBottom: 6 }}>
        <span data-testid="progress-text">
          {done}
          {total !== null ? ` / ${total}` : ''} samples
        </span>
        <span className="muted">
          {session.status === 'pending' ? `queued ${fmtTime(session.createdAt)}` : `started ${fmtTime(session.startedAt)} · ${fmtDuration(elapsed)}`}
        </span>
      </div>
      <div className="progress" role="progressbar" aria-valuenow={done} aria-valuemax={total ?? undefined}>
        <div style={{ width: total ? `${(100 * done) / total}%` : '0%' }} />
      </div>
    </Card>
  );
}
