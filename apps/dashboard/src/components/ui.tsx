'use client';
import type { ReactNode } from 'react';
import type { SessionStatus } from '@ddnn/contracts';
import { ApiError } from '../lib/api';
import { fmtTime } from '../lib/format';

export function Loading({ what }: { what: string }) {
  return (
    <div className="note loading" role="status">
      <span className="spinner" aria-hidden /> Loading {what}…
    </div>
  );
}

/** An error with what failed and, for known cases, what to do about it. */
export function ErrorNote({ error, what, action = 'load', onRetry }: { error: Error; what: string; action?: string; onRetry?: () => void }) {
  let hint = '';
  if (error instanceof ApiError) {
    if (error.status === 0) hint = 'Is the API running? Start it with `npm start`.';
    else if (error.routeMissing) hint = `This API does not serve ${error.path.split('?')[0]} (yet): it is older than the dashboard.`;
    else if (error.notFound) hint = 'It does not exist: it may have been deleted, or the address is wrong.';
  }
  return (
    <div className="note error" role="alert">
      <strong>
        Could not {action} {what}.
      </strong> {error.message}
      {hint && <div className="hint">{hint}</div>}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="note empty">
      <strong>{title}</strong>
      {children && <div className="hint">{children}</div>}
    </div>
  );
}

/** A run's (or a job's) status; a run being deleted (`deletingSince`) shows that instead, since when in its title. */
export function StatusBadge({ status, deletingSince }: { status: SessionStatus | string; deletingSince?: string | null }) {
  if (deletingSince) {
    return (
      <span className="badge status-deleting" title={`deletion asked for at ${fmtTime(deletingSince)}; its log is partly gone`}>
        deleting
      </span>
    );
  }
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function Stat({ label, value, sub, testId }: { label: string; value: ReactNode; sub?: ReactNode; testId?: string }) {
  return (
    <div className="stat" data-testid={testId}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">{value}</div>
      {sub && <div className="stat-sub">{sub}</div>}
    </div>
  );
}

/** A titled section; `id` makes it a link target (`/sessions#streams`). */
export function Card({ title, actions, children, className, id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; id?: string }) {
  return (
    <section className={`card ${className ?? ''}`} id={id}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

/** The live/stale indicator of a socket feed. */
export function LiveIndicator({ state, detail }: { state: 'connecting' | 'live' | 'stale' | 'off'; detail?: string }) {
  const text = { connecting: 'connecting', live: 'live', stale: 'stale', off: 'not live' }[state];
  return (
    <span className={`live-dot live-${state}`} title={detail || text} data-testid="live-indicator" data-state={state}>
      <i aria-hidden /> {text}
      {state === 'stale' && detail ? <small> · {detail}</small> : null}
    </span>
  );
}
