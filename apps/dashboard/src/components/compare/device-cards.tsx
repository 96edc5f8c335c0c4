'use client';
import { useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SessionAnalysis } from '../../lib/compare';
import { DeviceName } from '../../lib/device-names';
import { fmtBytes, fmtPct } from '../../lib/format';
import { Card } from '../ui';
import { runColor } from './sweep-card';

/**
 * The device side of the compared runs, on the same samples as the policies (a stream's window of samples): each
 * view's own-exit accuracy, and each device's answers, misses and bytes (fault scenarios show up here).
 */
export function DeviceCards({ analyses }: { analyses: SessionAnalysis[] }) {
  const data = useMemo(() => {
    const views = [...new Set(analyses.flatMap((a) => a.devices.map((d) => d.view)))].sort((a, b) => a - b);
    return views.map((v) => {
      const o: Record<string, number | string | null> = { view: `view ${v}` };
      analyses.forEach(({ devices }, k) => {
        o[`acc${k}`] = devices.find((x) => x.view === v)?.accuracy ?? null;
      });
      return o;
    });
  }, [analyses]);
  const notes = analyses.filter((a) => a.deviceNote);
  return (
    <>
      <Card title="Per-device contribution (own exit accuracy)">
        {notes.map((a) => (
          <p key={a.sessionId} className="note" data-testid="device-side-note">
            {a.name}: {a.deviceNote}.
          </p>
        ))}
        <div className="chart-box">
          <ResponsiveContainer>
            <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} />
              <XAxis dataKey="view" />
              <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
              <Tooltip formatter={(v) => fmtPct(Number(v))} />
              <Legend />
              {analyses.map((a, k) => (
                <Bar key={a.sessionId} dataKey={`acc${k}`} name={a.name} fill={runColor(k)} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      </Card>
      <Card title="Fault scenarios">
        <p className="muted" style={{ marginTop: 0 }}>
          Runs with failing devices (simulated crash, slow, flaky, or a real camera dropping out) show here as missed devices; compare their accuracy in the table below.
          A camera that captured nothing (a skipped capture) is not a failure: those samples are counted apart.
        </p>
        <div className="table-wrap">
          <table data-testid="fault-table">
            <thead>
              <tr>
                <th>Run</th>
                <th className="num">Samples</th>
                <th className="num wrap">With a missed device</th>
                <th className="num wrap" title="Samples where a camera captured nothing (and no device missed)">
                  With a view not captured
                </th>
                <th>Least available devices</th>
              </tr>
            </thead>
            <tbody>
              {analyses.map((a) => (
                <tr key={a.sessionId} data-session={a.sessionId}>
                  <td style={{ whiteSpace: 'normal' }}>{a.name}</td>
                  <td className="num" data-testid="fault-samples">
                    {a.samples}
                  </td>
                  <td className="num" data-testid="fault-missed">
                    {a.samplesWithMisses} ({fmtPct(a.samples ? a.samplesWithMisses / a.samples : null)})
                  </td>
                  <td className="num" data-testid="fault-not-captured">
                    {a.samplesNotCaptured} ({fmtPct(a.samples ? a.samplesNotCaptured / a.samples : null)})
                  </td>
                  <td style={{ whiteSpace: 'normal' }}>
                    {[...a.devices]
                      .sort((x, y) => x.answerRate - y.answerRate)
                      .slice(0, 3)
                      .map((d) => `view ${d.view}: ${fmtPct(d.answerRate, 0)}`)
                      .join(' · ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}

/** Every device of every run, in numbers: what the device charts draw, and the misses and bytes they do not. */
export function DeviceTable({ analyses }: { analyses: SessionAnalysis[] }) {
  return (
    <Card title="Devices">
      <div className="table-wrap">
        <table data-testid="device-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Device</th>
              <th className="num">View</th>
              <th className="num">Answered</th>
              <th className="num" title="Its own exit (its scores alone) on the answered samples with a label">
                Own-exit accuracy
              </th>
              <th className="num wrap" title="Requests it had a capture for and did not answer: timeout, disconnected, error, invalid">
                Missed replies
              </th>
              <th className="num wrap" title="Skipped captures: nothing captured to answer">
                Not captured
              </th>
              <th className="num">Bytes sent / sample</th>
            </tr>
          </thead>
          <tbody>
            {analyses.flatMap((a) =>
              a.devices.map((d) => (
                <tr key={`${a.sessionId}:${d.deviceId}`} data-session={a.sessionId} data-device={d.deviceId}>
                  <td>{a.name}</td>
                  <td>
                    <DeviceName id={d.deviceId} names={a.deviceNames} />
                  </td>
                  <td className="num">{d.view}</td>
                  <td className="num" data-testid="device-answered">
                    {fmtPct(d.answerRate)}
                  </td>
                  <td className="num" data-testid="device-accuracy" data-labelled={d.labelled}>
                    {fmtPct(d.accuracy)} <span className="muted">of {d.labelled}</span>
                  </td>
                  <td className="num" data-testid="device-missed">
                    {d.missed}
                  </td>
                  <td className="num" data-testid="device-not-captured">
                    {d.notCaptured}
                  </td>
                  <td className="num" data-testid="device-bytes">
                    {d.bytesPerSample === null ? '–' : fmtBytes(d.bytesPerSample)}
                  </td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
