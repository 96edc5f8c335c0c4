'use client';
import { useMemo } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SessionAnalysis } from '../../lib/compare';
import { fmtPct } from '../../lib/format';
import { Card } from '../ui';
import { runColor } from './sweep-card';

/**
 * The device side of the compared sessions: each view's own-exit accuracy, and how often devices missed (fault
 * scenarios). Computed from a session's events; a stream's window shows its device health on the stream's page.
 */
export function DeviceCards({ analyses }: { analyses: SessionAnalysis[] }) {
  const withDevices = analyses.flatMap((a, k) => (a.devices && a.samplesWithMisses !== null ? [{ a, k, devices: a.devices, missed: a.samplesWithMisses }] : []));
  const data = useMemo(() => {
    const views = [...new Set(withDevices.flatMap((x) => x.devices.map((d) => d.view)))].sort((a, b) => a - b);
    return views.map((v) => {
      const o: Record<string, number | string | null> = { view: `view ${v}` };
      withDevices.forEach(({ devices, k }) => {
        o[`acc${k}`] = devices.find((x) => x.view === v)?.accuracy ?? null;
      });
      return o;
    });
  }, [withDevices]);
  const windowsOnly = analyses.length - withDevices.length;
  const streamsNote = windowsOnly ? (
    <p className="muted" data-testid="device-side-note">
      {windowsOnly === analyses.length ? 'Stream windows are compared on their policies only' : `${windowsOnly} stream window(s) are left out here`}: their devices&apos; health is on the stream&apos;s page.
    </p>
  ) : null;
  if (withDevices.length === 0) return <Card title="Per-device contribution">{streamsNote}</Card>;
  return (
    <>
      <Card title="Per-device contribution (own exit accuracy)">
        {streamsNote}
        {(
          <div className="chart-box">
            <ResponsiveContainer>
              <BarChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="view" />
                <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
                <Tooltip formatter={(v) => fmtPct(Number(v))} />
                <Legend />
                {withDevices.map(({ a, k }) => (
                  <Bar key={a.sessionId} dataKey={`acc${k}`} name={a.name} fill={runColor(k)} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
        )}
      </Card>
      <Card title="Fault scenarios">
        <p className="muted" style={{ marginTop: 0 }}>
          Sessions started with simulated failures (crash, slow, flaky) show here as missed devices; compare their accuracy in the table below.
        </p>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Session</th>
                <th className="num">Samples</th>
                <th className="num">With a missed device</th>
                <th>Least available devices</th>
              </tr>
            </thead>
            <tbody>
              {withDevices.map(({ a, devices, missed }) => (
                <tr key={a.sessionId}>
                  <td>{a.name}</td>
                  <td className="num">{a.samples}</td>
                  <td className="num">
                    {missed} ({fmtPct(a.samples ? missed / a.samples : null)})
                  </td>
                  <td style={{ whiteSpace: 'normal' }}>
                    {[...devices]
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
