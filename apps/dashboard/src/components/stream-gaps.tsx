import type { StreamGapCause, StreamGapsSummary } from '@ddnn/contracts';
import type { WindowGaps } from '../lib/stream-window';
import { fmtDuration, fmtTime } from '../lib/format';
import { Card } from './ui';

const CAUSES: Record<StreamGapCause, string> = {
  outage: 'nothing ran the stream (its node died or restarted, or the database was down) until a node resumed it',
  backlog: 'samples in flight filled the window (devices, the log or the engine slower than the rate)',
  stall: "the node's event loop stalled past the catch-up limit",
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** One line on a stream's gaps: its outages and the triggers it dropped behind its rate; '' when it had none. */
export function gapsLine(g: StreamGapsSummary | undefined): string {
  if (!g) return '';
  const parts: string[] = [];
  if (g.outages > 0) parts.push(`${plural(g.outages, 'outage')} lasting ${fmtDuration(g.outageMs)} (${plural(g.missedTriggers.outage, 'trigger')} missed)`);
  const behind = g.missedTriggers.backlog + g.missedTriggers.stall;
  if (behind > 0) parts.push(`${plural(behind, 'trigger')} dropped behind the rate`);
  return parts.join(', ');
}

/**
 * A window's gaps (StreamGap): why stretches of the stream have no samples. Shown only when the window had some: a
 * stream that never stopped and kept its rate has nothing to say here.
 */
export function StreamGapsCard({ gaps }: { gaps: WindowGaps | undefined }) {
  if (!gaps || (gaps.recent.length === 0 && !gapsLine(gaps))) return null;
  return (
    <Card title="Gaps in this window">
      <p className="muted" data-testid="gaps-line">
        {gapsLine(gaps)}.
        {gaps.partial
          ? ` These counts are the whole window's, from the per-minute rollup: the window is too long to read event by event, ${gaps.recent.length === 0 ? 'and none of the gaps the page read (its first events, the stream’s latest gaps) falls in it' : 'so the table lists only the gaps of its first events and the stream’s latest ones'}.`
          : ''}
      </p>
      {gaps.recent.length > 0 && (
        <div className="table-wrap">
          <table data-testid="stream-gaps">
            <thead>
              <tr>
                <th>From</th>
                <th>To</th>
                <th>Cause</th>
                <th className="num">Triggers missed</th>
                <th className="num">Next sample</th>
              </tr>
            </thead>
            <tbody>
              {[...gaps.recent].reverse().map((g) => (
                <tr key={`${g.cause}-${g.from}-${g.nextSample}`} data-cause={g.cause}>
                  <td>{fmtTime(g.from)}</td>
                  <td>{fmtTime(g.to)}</td>
                  <td title={CAUSES[g.cause]}>{g.cause === 'outage' ? `outage (${fmtDuration(g.to - g.from)})` : g.cause}</td>
                  <td className="num">{g.missedTriggers}</td>
                  <td className="num">{g.nextSample}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
