'use client';
import { useSearchParams } from 'next/navigation';
import { Suspense, useEffect, useState } from 'react';
import type { ThresholdStatistic } from '@ddnn/contracts';
import { DeviceCards, DeviceTable } from '../../components/compare/device-cards';
import { ParetoCard } from '../../components/compare/pareto-card';
import { PolicyTable } from '../../components/compare/policy-table';
import { RunPicker } from '../../components/compare/run-picker';
import { SweepCard } from '../../components/compare/sweep-card';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { api } from '../../lib/api';
import { parseThresholds, parseWindowsParam, type PickedRun, presetPolicies, type Row, type SessionAnalysis, windowsParam } from '../../lib/compare';
import { analyseRun } from '../../lib/compare-runs';
import { useAsync } from '../../lib/use-async';
import { asError } from '../../lib/errors';

function Results({ analyses, rows, statistic }: { analyses: SessionAnalysis[]; rows: Row[]; statistic: ThresholdStatistic }) {
  return (
    <>
      <div className="grid cols-2">
        <SweepCard analyses={analyses} statistic={statistic} />
        <ParetoCard analyses={analyses} rows={rows} />
        <DeviceCards analyses={analyses} />
      </div>
      <DeviceTable analyses={analyses} />
      <PolicyTable analyses={analyses} rows={rows} />
    </>
  );
}

/** The runs the address names: `sessions=<id>,...` whole, `windows=<id>:<from>-<to>,...` on a window of samples. */
function pickedFrom(params: URLSearchParams): PickedRun[] {
  const windows = parseWindowsParam(params.get('windows'));
  const whole = (params.get('sessions') ?? '')
    .split(',')
    .filter(Boolean)
    .map((id): PickedRun => ({ id, window: null }));
  // One entry per run: a run given both ways is compared on its window.
  return [...windows, ...whole.filter((w) => !windows.some((x) => x.id === w.id))];
}

function Inner() {
  const params = useSearchParams();
  const list = useAsync(() => api.sessions({ limit: 50 }), []);
  const [picked, setPicked] = useState<PickedRun[]>(() => pickedFrom(params));
  const [statistic, setStatistic] = useState<ThresholdStatistic>('entropy');
  const [entropyT, setEntropyT] = useState('0.2, 0.5, 0.8');
  const [confT, setConfT] = useState('0.9');
  const [baselines, setBaselines] = useState(true);
  const [run, setRun] = useState(0);
  const [state, setState] = useState<{ loading: boolean; error?: Error; analyses?: SessionAnalysis[]; rows?: Row[] }>({ loading: false });
  useEffect(() => {
    const url = new URL(window.location.href);
    const whole = picked.filter((r) => !r.window).map((r) => r.id);
    const windows = windowsParam(picked);
    if (whole.length) url.searchParams.set('sessions', whole.join(','));
    else url.searchParams.delete('sessions');
    if (windows) url.searchParams.set('windows', windows);
    else url.searchParams.delete('windows');
    window.history.replaceState(window.history.state, '', url.pathname + url.search);
  }, [picked]);
  useEffect(() => {
    if (!run || picked.length === 0) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: undefined }));
    (async () => {
      const policies = presetPolicies({ entropy: parseThresholds(entropyT, 'Entropy thresholds'), confidence: parseThresholds(confT, 'Confidence thresholds'), baselines });
      const analyses: SessionAnalysis[] = [];
      const rows: Row[] = [];
      for (const r of picked) {
        const one = await analyseRun(r, policies, statistic);
        analyses.push(one.analysis);
        rows.push(...one.rows);
      }
      return { analyses, rows };
    })()
      .then((r) => live && setState({ loading: false, ...r }))
      .catch((e: unknown) => live && setState({ loading: false, error: asError(e) }));
    return () => {
      live = false;
    };
    // Runs on demand (the Compare button), not on every keystroke.
  }, [run]);
  useEffect(() => {
    if (picked.length && !run) setRun(1);
  }, [picked.length, run]);
  const finished = (list.data?.items ?? []).filter((s) => s.samplesDone > 0);
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Compare</h1>
          <p>
            Evaluate exit policies counterfactually on recorded sessions, or on a window of a stream&apos;s samples (the API&apos;s compare and sweep). Accuracy
            carries its 95% interval over the labelled samples; latency is what the run&apos;s recorded link implies.
          </p>
        </div>
      </div>
      <Card title="Runs and policies">
        {list.error && <ErrorNote error={list.error} what="sessions" onRetry={list.reload} />}
        {!list.data && list.loading && <Loading what="sessions" />}
        {list.data && <RunPicker sessions={finished} picked={picked} onChange={setPicked} nameOf={(id) => state.analyses?.find((a) => a.sessionId === id)?.runName} />}
        <div className="toolbar">
          <label>
            Sweep statistic
            <select value={statistic} onChange={(e) => setStatistic(e.target.value as ThresholdStatistic)}>
              <option value="entropy">entropy (exit if η &lt; T)</option>
              <option value="confidence">confidence (exit if top &gt; T)</option>
              <option value="margin">margin (exit if top1 − top2 &gt; T)</option>
            </select>
          </label>
          <label>
            Entropy policies T
            <input value={entropyT} onChange={(e) => setEntropyT(e.target.value)} style={{ width: 150 }} />
          </label>
          <label>
            Confidence policies T
            <input value={confT} onChange={(e) => setConfT(e.target.value)} style={{ width: 110 }} />
          </label>
          <label className="inline" style={{ alignSelf: 'flex-end' }}>
            <input type="checkbox" checked={baselines} onChange={(e) => setBaselines(e.target.checked)} /> baselines (always local, always cloud, raw offload)
          </label>
          <span className="grow" />
          <button type="button" disabled={picked.length === 0 || state.loading} onClick={() => setRun((x) => x + 1)} style={{ alignSelf: 'flex-end' }}>
            {state.loading ? 'Evaluating…' : 'Compare'}
          </button>
        </div>
      </Card>
      {state.error && <ErrorNote error={state.error} action="evaluate" what="the policies" />}
      {state.loading && !state.analyses && <Loading what="and evaluating the runs' logs" />}
      {state.analyses && state.rows && <Results analyses={state.analyses} rows={state.rows} statistic={statistic} />}
      {!state.analyses && !state.loading && picked.length === 0 && list.data && finished.length > 0 && <Empty title="Pick one or more sessions above, or a window on a stream's page." />}
    </>
  );
}

export default function ComparePage() {
  return (
    <Suspense fallback={<Loading what="the comparison" />}>
      <Inner />
    </Suspense>
  );
}
