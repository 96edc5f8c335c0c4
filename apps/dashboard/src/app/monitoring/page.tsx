'use client';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { Suspense, useEffect, useMemo, useState } from 'react';
import type { MetricName, MetricSubject } from '@ddnn/contracts';
import { MetricChart, type Window } from '../../components/metric-chart';
import { KeyedSelect } from '../../components/option-select';
import { listRuns, RunSelect } from '../../components/run-select';
import { Loading } from '../../components/ui';
import { api } from '../../lib/api';
import { shortId } from '../../lib/format';
import { RANGES, REFRESH, rangeOf } from '../../lib/metrics';
import { useAsync } from '../../lib/use-async';

/** The charts of each kind of subject: [title, metrics of one unit]. */
const RUN_CHARTS: [string, MetricName[]][] = [
  ['Samples per second', ['samples_per_second']],
  ['Samples without an answer', ['unanswered_rate']],
  ['Exit rate per tier', ['exit_rate_local', 'exit_rate_edge', 'exit_rate_cloud']],
  ['Accuracy: labelled and estimated', ['accuracy_labelled', 'accuracy_estimated']],
  ['Estimated accuracy per exit', ['accuracy_estimated_local', 'accuracy_estimated_cloud']],
  ['Entropy at the local exit (p50, p95)', ['entropy_p50_local', 'entropy_p95_local']],
  ['Entropy at the cloud exit (p50, p95)', ['entropy_p50_cloud', 'entropy_p95_cloud']],
  ['Bytes per second', ['bytes_per_second']],
  ['Device latency (p50, p95)', ['device_latency_p50', 'device_latency_p95']],
  ['Device miss rate', ['device_miss_rate', 'miss_rate_timeout', 'miss_rate_disconnected']],
  ['Skipped captures', ['skipped_captures']],
  ['Devices agreeing with the fused decision, and with each other', ['device_agreement', 'peer_agreement']],
  ['Entropy drift from the reference (PSI)', ['entropy_drift']],
  ['Local exit rate drift from the reference', ['local_exit_rate_drift']],
];
const DEVICE_CHARTS: [string, MetricName[]][] = [
  ['Latency (p50, p95)', ['device_latency_p50', 'device_latency_p95']],
  ['Miss rate', ['device_miss_rate', 'miss_rate_timeout', 'miss_rate_disconnected', 'miss_rate_error', 'miss_rate_invalid']],
  ['Skipped captures', ['skipped_captures']],
  ['Agreement with the fused decision', ['device_agreement']],
  ['Agreement with the other devices', ['peer_agreement']],
  ['Peer agreement drift from its reference (95% upper bound)', ['peer_agreement_drift']],
  ['Entropy drift of its section (PSI)', ['entropy_drift']],
  ['Bytes sent per second', ['bytes_per_second']],
];
const LINK_CHARTS: [string, MetricName[]][] = [['Bytes per second', ['bytes_per_second']]];

function useNow(refreshMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!refreshMs) return;
    const t = setInterval(() => setNow(Date.now()), refreshMs);
    return () => clearInterval(t);
  }, [refreshMs]);
  return now;
}

function Monitoring() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const range = rangeOf(params.get('range'));
  const refresh = REFRESH.find((r) => r.key === params.get('refresh')) ?? REFRESH[2];
  const runId = params.get('run') ?? '';
  const deviceId = params.get('device') ?? '';
  const link = params.get('link') ?? '';
  const [linkDraft, setLinkDraft] = useState(link);
  useEffect(() => setLinkDraft(link), [link]);
  const [tick, setTick] = useState(0);
  const now = useNow(refresh.ms);
  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params.toString());
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    router.replace(`${pathname}?${next.toString()}`);
  };
  const runs = useAsync(() => listRuns(100), []);
  const devices = useAsync(() => api.devices({ limit: 200 }), []);
  // Windows end at the next whole step so that a refresh within a step asks for the same buckets.
  const window: Window = useMemo(() => {
    const to = Math.ceil((now + 1) / range.step) * range.step;
    return { from: to - range.ms, to, step: range.step };
  }, [now, range]);
  const subject: MetricSubject = {};
  if (runId) subject.runId = runId;
  if (deviceId) subject.deviceId = deviceId;
  if (link) subject.link = link;
  const charts = link ? LINK_CHARTS : deviceId ? DEVICE_CHARTS : RUN_CHARTS;
  // A link subject narrows to bytes; a device subject drops the run-only charts.
  const run = runs.data?.find((r) => r.id === runId);
  const what = link ? `link ${link}` : deviceId ? `device ${devices.data?.items.find((d) => d.id === deviceId)?.name ?? deviceId.slice(0, 8)}` : runId ? `${run?.kind ?? 'run'} ${run?.name ?? shortId(runId)}` : 'the whole fleet';
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Monitoring</h1>
          <p className="muted">Metrics over time for {what}, from the event log&apos;s rollup. Estimated accuracy needs no labels: it is calibrated on the latest labelled run of the same model.</p>
        </div>
      </div>
      <div className="card">
        <form className="toolbar" aria-label="monitoring subject" onSubmit={(e) => (e.preventDefault(), set({ link: linkDraft.trim() }))}>
          <label>
            Time range
            <KeyedSelect name="range" options={RANGES} value={range.key} onChange={(k) => set({ range: k })} />
          </label>
          <label>
            Auto-refresh
            <KeyedSelect name="refresh" options={REFRESH} value={refresh.key} onChange={(k) => set({ refresh: k })} />
          </label>
          <label>
            Run
            <RunSelect runs={runs.data} value={runId} onChange={(id) => set({ run: id })} />
          </label>
          <label>
            Device
            <select name="device" value={deviceId} onChange={(e) => set({ device: e.target.value, link: '' })} style={{ maxWidth: 220 }}>
              <option value="">All devices</option>
              {devices.data?.items.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Link
            <input name="link" value={linkDraft} onChange={(e) => setLinkDraft(e.target.value)} placeholder="<device id>->local" style={{ width: 200 }} />
          </label>
          <button type="submit" className="secondary" style={{ alignSelf: 'flex-end' }}>
            Show link
          </button>
          <button type="button" className="secondary" style={{ alignSelf: 'flex-end' }} onClick={() => setTick((t) => t + 1)}>
            Refresh now
          </button>
          {deviceId && (
            <Link href={`/device?id=${encodeURIComponent(deviceId)}`} style={{ alignSelf: 'flex-end' }}>
              Device page →
            </Link>
          )}
        </form>
      </div>
      <div className="grid cols-2" data-testid="monitoring-charts">
        {charts.map(([title, metrics]) => (
          <MetricChart key={title} title={title} metrics={metrics} subject={subject} window={window} refreshedAt={now + tick} testId={`chart-${metrics[0]}`} />
        ))}
      </div>
    </>
  );
}

export default function MonitoringPage() {
  return (
    <Suspense fallback={<Loading what="monitoring" />}>
      <Monitoring />
    </Suspense>
  );
}
