'use client';
import Link from 'next/link';
import { useEffect, useMemo, useState } from 'react';
import { RANGES } from '../lib/metrics';
import { ConnectivityStrip, MetricChart, type Window } from './metric-chart';
import { KeyedSelect } from './option-select';

const DEVICE_RANGES = RANGES.filter((r) => ['1h', '6h', '24h', '7d'].includes(r.key));

/** The device page's history over time: its connectivity, latency and misses, refreshed every 30 s. */
export function DeviceOverTime({ deviceId }: { deviceId: string }) {
  const [key, setKey] = useState<string>('24h');
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  const range = DEVICE_RANGES.find((r) => r.key === key) ?? DEVICE_RANGES[2];
  const window: Window = useMemo(() => {
    const to = Math.ceil((now + 1) / range.step) * range.step;
    return { from: to - range.ms, to, step: range.step };
  }, [now, range]);
  const subject = { deviceId };
  return (
    <section aria-label="device over time" data-testid="device-over-time">
      <div className="toolbar" style={{ marginTop: 16 }}>
        <h2 className="grow" style={{ margin: 0 }}>
          Over time
        </h2>
        <label>
          Time range
          <KeyedSelect name="deviceRange" options={DEVICE_RANGES} value={range.key} onChange={setKey} />
        </label>
        <Link href={`/monitoring?device=${encodeURIComponent(deviceId)}&range=${range.key}`}>All its metrics →</Link>
      </div>
      <ConnectivityStrip deviceId={deviceId} window={window} refreshedAt={now} />
      <div className="grid cols-2">
        <MetricChart title="Latency (p50, p95)" metrics={['device_latency_p50', 'device_latency_p95']} subject={subject} window={window} refreshedAt={now} testId="device-latency" />
        <MetricChart title="Misses" metrics={['device_miss_rate', 'miss_rate_timeout', 'miss_rate_disconnected']} subject={subject} window={window} refreshedAt={now} testId="device-misses" />
      </div>
    </section>
  );
}
