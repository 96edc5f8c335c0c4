import type { SessionRunStats } from '@ddnn/contracts';
import { Card } from '../ui';
import { fmtDuration, fmtMs } from '../../lib/format';

/**
 * Where a sample's time went. The node sums each stage over samples, and samples overlap (the pipeline keeps
 * several in flight), so the sums are not durations of the session: shown per sample, beside the wall clock.
 * They are the measures of the node that ended the run, over its own stint: a run it resumed after a restart, or
 * took over from a dead node, decided its first samples elsewhere, and that node's measures died with it.
 * Its event count is of the samples' events alone: the log (`logEvents`, what the replay reads) also holds the run's
 * start, end and device notices, so both are shown, each named.
 */
export function TimeCard({ stats, started, logEvents }: { stats: SessionRunStats; started: number | null; logEvents: number | null }) {
  const per = (ms: number) => fmtMs(stats.samples ? ms / stats.samples : null);
  const partial = started !== null && started > stats.samples;
  return (
    <Card title="Where the time went">
      {partial && (
        <p className="note" data-testid="time-partial">
          Measured by the node that ended the run over its own {stats.samples} of the run's {started} samples: the run resumed after a restart or was
          taken over from another node, whose measures ended with it.
        </p>
      )}
      <dl className="kv" data-testid="time-card">
        <dt>{partial ? 'Last stint (wall clock)' : 'Session (wall clock)'}</dt>
        <dd data-testid="time-duration">{fmtDuration(stats.durationMs)}</dd>
        <dt>Running the samples (wall clock)</dt>
        <dd>{fmtDuration(stats.pipelineMs)}</dd>
        <dt>Per sample: server sections</dt>
        <dd data-testid="time-server">{per(stats.serverModelMs)}</dd>
        <dt>Per sample: device compute</dt>
        <dd data-testid="time-device">{per(stats.deviceModelMs)}</dd>
        <dt>Per sample: transport</dt>
        <dd data-testid="time-transport">{per(stats.transportMs)}</dd>
        <dt>Per sample: waiting for the log</dt>
        <dd data-testid="time-logging">{per(stats.loggingMs)}</dd>
        <dt>Samples · their events</dt>
        <dd data-testid="time-events">
          {stats.samples} · {stats.events}
          {logEvents !== null && <span className="muted"> ({logEvents} events in the whole log)</span>}
        </dd>
      </dl>
      <p className="muted" style={{ marginBottom: 0 }}>
        Per-sample times are means over the {stats.samples} samples; samples run several at a time, so they do not add up to the wall clock.
      </p>
    </Card>
  );
}
