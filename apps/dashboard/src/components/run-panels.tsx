'use client';
import Link from 'next/link';
import { bytesByLink, type SessionSummary } from '@ddnn/contracts';
import { DeviceName, type DeviceNames, deviceLabel } from '../lib/device-names';
import { fmtPct } from '../lib/format';
import type { DecidedRow } from '../lib/replay';
import { ExitsChart, LinkBytesChart } from './charts';
import { Card } from './ui';

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

/** Per device: replies answered and missed, and mean latency. */
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
              <th className="num">Missed</th>
              <th className="num">Miss rate</th>
              <th className="num">Mean latency</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(summary.devices).map(([d, t]) => (
              <tr key={d}>
                <td>
                  <DeviceName id={d} names={names} />
                </td>
                <td className="num">{t.view ?? '–'}</td>
                <td className="num">{t.answered}</td>
                <td className="num">{t.missed}</td>
                <td className="num">{fmtPct(t.answered + t.missed ? t.missed / (t.answered + t.missed) : null)}</td>
                <td className="num">{t.meanLatencyMs === null ? '–' : `${t.meanLatencyMs.toFixed(1)} ms`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

/** Decided samples, newest first, each linking to its replay. */
export function DecidedSamplesTable({ rows, replayHref, testId }: { rows: DecidedRow[]; replayHref: (sampleIndex: number) => string; testId?: string }) {
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
              class {x.prediction}
              {x.label === null ? '' : x.prediction === x.label ? ' ✓ right' : ` ✗ wrong (label ${x.label})`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
