'use client';
import Link from 'next/link';
import { bytesByLink, type MissTally, type SessionSummary } from '@ddnn/contracts';
import { DeviceName, type DeviceNames, deviceLabel } from '../lib/device-names';
import { className, fmtPct } from '../lib/format';
import { deviceMisses, runMisses } from '../lib/misses';
import type { DecidedRow } from '../lib/replay';
import { ExitsChart, LinkBytesChart } from './charts';
import { Card, Stat } from './ui';

/**
 * The panels a session's page and a stream's page share: what a run's summary (the whole session, or a stream's
 * window) says about exits, bytes and devices, and its latest decided samples.
 */

/** Exits per tier and bytes per link of a summary, as two cards of the page's grid. */
export function ExitAndBytesCards({ summary, names }: { summary: SessionSummary; names: DeviceNames }) {
  return (
    <>
      <Card title="Exits per tier">
        <ExitsChart summary={summary} />
      </Card>
      <Card title="Bytes per link">
        <LinkBytesChart bytesByLink={bytesByLink(summary)} label={(n) => (names.has(n) ? deviceLabel(n, names) : undefined)} />
      </Card>
    </>
  );
}

/**
 * Per device: replies answered and missed, and mean latency. Skipped captures are their own column, outside the
 * miss rate, as device_miss_rate (and its alert) counts them.
 */
export function DeviceHealthCard({ summary, names }: { summary: SessionSummary; names: DeviceNames }) {
  return (
    <Card title="Device health">
      <div className="table-wrap">
        <table data-testid="device-health">
          <thead>
            <tr>
              <th>Device</th>
              <th className="num">View</th>
              <th className="num">Answered</th>
              <th className="num wrap" title="Requests it had a capture for and did not answer: timeout, disconnected, error, invalid">
                Missed
              </th>
              <th className="num wrap" title="Missed over the requests it had a capture for (the device_miss_rate metric)">
                Miss rate
              </th>
              <th className="num wrap" title="Skipped captures: a stale frame or a view with nothing in it, nothing the device could answer">
                Not captured
              </th>
              <th className="num wrap">Mean latency</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(summary.devices).map(([d, t]) => {
              const m = deviceMisses(t);
              return (
                <tr key={d} data-device={d}>
                  <td>
                    <DeviceName id={d} names={names} />
                  </td>
                  <td className="num">{t.view ?? '–'}</td>
                  <td className="num">{t.answered}</td>
                  <td className="num" data-testid="health-missed">
                    {m.missed}
                  </td>
                  <td className="num" data-testid="health-miss-rate">
                    {fmtPct(m.missRate)}
                  </td>
                  <td className="num" data-testid="health-not-captured">
                    {m.notCaptured}
                  </td>
                  <td className="num">{t.meanLatencyMs === null ? '–' : `${t.meanLatencyMs.toFixed(1)} ms`}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

/** The run's missed device replies, with its skipped captures beside them (one stat of a run's page). */
export function MissedStat({ summary, tally }: { summary: SessionSummary | null | undefined; tally?: MissTally | null }) {
  const m = tally !== undefined ? tally : summary ? runMisses(summary) : null;
  return (
    <Stat
      label="Missed device replies"
      testId="stat-missed"
      value={m ? m.missed : '–'}
      sub={
        m ? (
          <>
            {m.missRate === null ? '' : `${fmtPct(m.missRate)} of captured · `}
            <span data-testid="stat-not-captured">{m.notCaptured}</span> not captured (skipped)
          </>
        ) : undefined
      }
    />
  );
}

/**
 * Samples nothing reached an answering exit of (SampleUnanswered), so they are in no accuracy. Said out loud,
 * since the run's figures are over the samples that were answered.
 */
export function UnansweredNote({ summary, counts }: { summary: SessionSummary | null | undefined; counts?: { unanswered: number; answered: number } | null }) {
  const n = counts ? counts.unanswered : (summary?.unanswered ?? 0);
  const answered = counts ? counts.answered : (summary?.samplesDecided ?? 0);
  if (n === 0) return null;
  return (
    <div className="note warn" data-testid="unanswered-note">
      {n} {n === 1 ? 'sample' : 'samples'} had no answer: nothing reached an exit that could answer {n === 1 ? 'it' : 'them'} (every camera missed or
      skipped the capture, or, past an unsure local exit, none delivered its features). The figures here are over the {answered} answered samples.
    </div>
  );
}

/** Decided samples, newest first, each linking to its replay. */
export function DecidedSamplesTable({
  rows,
  classes,
  replayHref,
  testId,
}: {
  rows: DecidedRow[];
  /** The run's class names (its start event's), by class index. */
  classes: readonly string[];
  replayHref: (sampleIndex: number) => string;
  testId?: string;
}) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          <th className="num">Sample</th>
          <th>Exit</th>
          <th className="num">η</th>
          <th>Prediction</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((x) => (
          <tr key={`${x.sampleIndex}-${x.tier}`}>
            <td className="num">
              <Link href={replayHref(x.sampleIndex)}>{x.sampleIndex}</Link>
            </td>
            <td>
              <span className={`badge tier-${x.tier}`}>{x.tier}</span>
            </td>
            <td className="num">{x.eta.toFixed(3)}</td>
            <td>
              {className(classes, x.prediction)}
              {x.label === null ? '' : x.prediction === x.label ? ' ✓ right' : ` ✗ wrong (label ${className(classes, x.label)})`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
