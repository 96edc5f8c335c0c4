'use client';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { Suspense, useEffect, useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, ZAxis } from 'recharts';
import type { SessionView, ThresholdStatistic } from '@ddnn/contracts';
import { TIER_COLORS } from '../../components/charts';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { allSessionEvents, api } from '../../lib/api';
import { accuracyHalfWidth, deviceSide, linkModelOf, parseThresholds, presetPolicies, type Row, type SessionAnalysis } from '../../lib/compare';
import { download, toCsv } from '../../lib/csv';
import { fmtBytes, fmtNum, fmtPct, shortId } from '../../lib/format';
import { livePolicyLabel } from '../../lib/policy';
import { useAsync } from '../../lib/use-async';

const PALETTE = ['#2f6fde', '#d0452f', '#2f9e6b', '#8a4fd0', '#d08b1a', '#1f9bb0'];

/** How a session is named on this page: its run name, else its short id. */
function sessionLabel(s: Pick<SessionView, 'id' | 'name'> | undefined, id: string): string {
  return s?.name || shortId(id);
}

/** "90.1% ± 4.5" (95% interval over the labelled samples). */
function AccuracyCell({ accuracy, n }: { accuracy: number | null; n: number }) {
  const h = accuracyHalfWidth(accuracy, n);
  return (
    <td className="num" title={h === null ? undefined : `95% interval over ${n} labelled samples`}>
      {fmtPct(accuracy)}
      {h !== null && <span className="muted"> ± {(h * 100).toFixed(1)}</span>}
    </td>
  );
}

function rowsCsv(rows: Row[]): string {
  return toCsv(
    ['session', 'policy', 'evaluable', 'samples', 'accuracy', 'local_exit_rate', 'edge_exit_rate', 'cloud_exit_rate', 'bytes_per_sample', 'mean_latency_ms', 'p95_latency_ms', 'dominated', 'reason'],
    rows.map((r) => {
      const rate = (t: string) => (r.evaluable ? (r.exits.find((e) => e.tier === t)?.exitRate ?? 0) : null);
      return [
        r.sessionId,
        r.label,
        r.evaluable,
        r.evaluable ? r.samples : null,
        r.evaluable ? r.accuracy : null,
        rate('local'),
        rate('edge'),
        rate('cloud'),
        r.evaluable ? r.bytesPerSample : null,
        r.evaluable ? r.latency.meanMs : null,
        r.evaluable ? r.latency.p95Ms : null,
        r.dominated ?? null,
        r.evaluable ? null : r.reason,
      ];
    }),
  );
}

function sweepCsv(analyses: SessionAnalysis[]): string {
  return toCsv(
    ['session', 'statistic', 'threshold', 'evaluable', 'accuracy', 'local_exit_rate', 'edge_exit_rate', 'cloud_exit_rate', 'bytes_per_sample', 'mean_latency_ms'],
    analyses.flatMap((a) =>
      a.sweep.points.map((p) => [a.sessionId, a.sweep.statistic, p.threshold, p.evaluable, p.accuracy, p.localExitRate, p.exitRates.edge ?? 0, p.exitRates.cloud ?? 0, p.bytesPerSample, p.meanLatencyMs]),
    ),
  );
}

function Results({ analyses, rows, statistic, sessions }: { analyses: SessionAnalysis[]; rows: Row[]; statistic: ThresholdStatistic; sessions: Map<string, SessionView> }) {
  const nameOf = (id: string) => sessionLabel(sessions.get(id), id);
  const sweepData = useMemo(() => {
    const pts = analyses[0]?.sweep.points ?? [];
    return pts.map((p, i) => {
      const o: Record<string, number | null> = { threshold: p.threshold };
      analyses.forEach((a, k) => {
        const q = a.sweep.points[i];
        o[`acc${k}`] = q.evaluable ? q.accuracy : null;
        o[`local${k}`] = q.evaluable ? q.localExitRate : null;
        o[`edge${k}`] = q.evaluable ? (q.exitRates.edge ?? 0) : null;
        o[`cloud${k}`] = q.evaluable ? (q.exitRates.cloud ?? 0) : null;
      });
      return o;
    });
  }, [analyses]);
  const evaluable = rows.filter((r) => r.evaluable);
  // One frontier per session, as the API marks it: sessions ran on different data and devices.
  const fronts = analyses.map((a) =>
    evaluable
      .filter((r) => r.sessionId === a.sessionId && r.dominated === false)
      .map((r) => ({ x: r.bytesPerSample, y: r.accuracy, label: r.label, s: nameOf(r.sessionId) }))
      .sort((p, q) => p.x - q.x),
  );
  const dominated = evaluable.filter((r) => r.dominated).map((r) => ({ x: r.bytesPerSample, y: r.accuracy, label: r.label, s: nameOf(r.sessionId) }));
  const deviceData = useMemo(() => {
    const views = [...new Set(analyses.flatMap((a) => a.devices.map((d) => d.view)))].sort((a, b) => a - b);
    return views.map((v) => {
      const o: Record<string, number | string | null> = { view: `view ${v}` };
      analyses.forEach((a, k) => {
        const d = a.devices.find((x) => x.view === v);
        o[`acc${k}`] = d?.accuracy ?? null;
        o[`ans${k}`] = d?.answerRate ?? null;
      });
      return o;
    });
  }, [analyses]);
  const anyNot = rows.some((r) => !r.evaluable);
  // Powers of 4 around the data: a log axis with one or two default ticks says little.
  const logTicks = (() => {
    const xs = evaluable.map((r) => r.bytesPerSample).filter((x) => x > 0);
    if (xs.length === 0) return [1, 4];
    const lo = Math.floor(Math.log(Math.min(...xs)) / Math.log(4));
    const hi = Math.ceil(Math.log(Math.max(...xs)) / Math.log(4));
    return Array.from({ length: Math.max(2, hi - lo + 1) }, (_, i) => 4 ** (lo + i));
  })();
  return (
    <>
      <div className="grid cols-2">
        <Card title={`Accuracy vs ${statistic} threshold`}>
          <div className="chart-box">
            <ResponsiveContainer>
              <LineChart data={sweepData} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="threshold" type="number" domain={[0, 1]} ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]} tickFormatter={(v: number) => v.toFixed(1)} />
                <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
                <Tooltip formatter={(v) => fmtPct(Number(v))} labelFormatter={(t) => `T = ${Number(t).toFixed(2)}`} />
                <Legend />
                {analyses.map((a, k) => (
                  <Line key={a.sessionId} dataKey={`acc${k}`} name={`accuracy ${nameOf(a.sessionId)}`} stroke={PALETTE[k % PALETTE.length]} dot={false} isAnimationActive={false} />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </div>
          <h3 style={{ marginTop: 8 }}>Exit rates per tier</h3>
          <div className="chart-box" style={{ height: 160 }}>
            <ResponsiveContainer>
              <LineChart data={sweepData} margin={{ top: 4, right: 16, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="threshold" type="number" domain={[0, 1]} ticks={[0, 0.2, 0.4, 0.6, 0.8, 1]} tickFormatter={(v: number) => v.toFixed(1)} />
                <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
                <Tooltip formatter={(v) => fmtPct(Number(v))} labelFormatter={(t) => `T = ${Number(t).toFixed(2)}`} />
                {analyses.flatMap((a, k) =>
                  (['local', 'edge', 'cloud'] as const)
                    .filter((t) => t !== 'edge' || a.table.edge)
                    .map((t) => (
                      <Line
                        key={`${t}${k}`}
                        dataKey={`${t}${k}`}
                        name={`${t} ${nameOf(a.sessionId)}`}
                        stroke={TIER_COLORS[t]}
                        strokeDasharray={k ? `${4 + 2 * k} 3` : undefined}
                        dot={false}
                        isAnimationActive={false}
                      />
                    )),
                )}
                <Legend />
              </LineChart>
            </ResponsiveContainer>
          </div>
        </Card>
        <Card title="Accuracy vs bytes per sample (Pareto frontier)">
          {evaluable.length === 0 ? (
            <Empty title="No policy could be evaluated on these sessions.">Research-mode sessions log every exit, so every policy can be evaluated on them.</Empty>
          ) : (
            <div className="chart-box tall">
              <ResponsiveContainer>
                <ScatterChart margin={{ top: 8, right: 16, bottom: 20, left: 8 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis
                    dataKey="x"
                    type="number"
                    name="bytes/sample"
                    scale="log"
                    domain={[logTicks[0], logTicks[logTicks.length - 1]]}
                    ticks={logTicks}
                    tickFormatter={(v: number) => fmtBytes(v)}
                    label={{ value: 'bytes per sample (log scale)', position: 'insideBottom', offset: -12, fontSize: 11 }}
                  />
                  <YAxis dataKey="y" type="number" name="accuracy" domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
                  <ZAxis range={[60, 60]} />
                  <Tooltip
                    content={({ payload }) => {
                      const p = payload?.[0]?.payload as { label: string; s: string; x: number; y: number } | undefined;
                      return p ? (
                        <div className="card" style={{ padding: 8, margin: 0 }}>
                          <strong>{p.label}</strong> <span className="mono">{p.s}</span>
                          <div>
                            {fmtPct(p.y)} · {fmtBytes(p.x)}/sample
                          </div>
                        </div>
                      ) : null;
                    }}
                  />
                  <Legend verticalAlign="top" />
                  <Scatter name="dominated" data={dominated} fill="#c4c9d2" isAnimationActive={false} />
                  {fronts.map((front, k) => (
                    <Scatter
                      key={analyses[k].sessionId}
                      name={`frontier ${nameOf(analyses[k].sessionId)}`}
                      data={front}
                      fill={PALETTE[k % PALETTE.length]}
                      line={{ stroke: PALETTE[k % PALETTE.length] }}
                      isAnimationActive={false}
                    />
                  ))}
                </ScatterChart>
              </ResponsiveContainer>
            </div>
          )}
        </Card>
        <Card title="Per-device contribution (own exit accuracy)">
          <div className="chart-box">
            <ResponsiveContainer>
              <BarChart data={deviceData} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} />
                <XAxis dataKey="view" />
                <YAxis domain={[0, 1]} tickFormatter={(v: number) => fmtPct(v, 0)} />
                <Tooltip formatter={(v) => fmtPct(Number(v))} />
                <Legend />
                {analyses.map((a, k) => (
                  <Bar key={a.sessionId} dataKey={`acc${k}`} name={nameOf(a.sessionId)} fill={PALETTE[k % PALETTE.length]} isAnimationActive={false} />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </div>
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
              {analyses.map((a) => (
                <tr key={a.sessionId}>
                  <td>{nameOf(a.sessionId)}</td>
                  <td className="num">{a.samples}</td>
                  <td className="num">
                    {a.samplesWithMisses} ({fmtPct(a.samples ? a.samplesWithMisses / a.samples : null)})
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
      </div>
      <Card
        title="Policies side by side"
        actions={
          <>
            <button type="button" className="secondary" onClick={() => download('ddnn-compare.csv', rowsCsv(rows))}>
              Export table (CSV)
            </button>
            <button type="button" className="secondary" onClick={() => download('ddnn-sweep.csv', sweepCsv(analyses))}>
              Export sweep (CSV)
            </button>
          </>
        }
      >
        {anyNot && <p className="muted">Greyed rows cannot be evaluated: the session never computed what that policy needs (production sessions log only the live path).</p>}
        <div className="table-wrap">
          <table data-testid="compare-table">
            <thead>
              <tr>
                <th>Session</th>
                <th>Policy</th>
                <th className="num">Accuracy</th>
                <th className="num">Local</th>
                <th className="num">Edge</th>
                <th className="num">Cloud</th>
                <th className="num">Bytes / sample</th>
                <th className="num" title="What the session's recorded link model implies (none: compute only)">Mean latency</th>
                <th>Pareto (per session)</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i} className={!r.evaluable || r.dominated ? 'dominated' : undefined} data-session={r.sessionId} data-pareto={r.evaluable ? (r.dominated ? 'dominated' : 'frontier') : 'none'}>
                  <td>{nameOf(r.sessionId)}</td>
                  <td>{r.label}</td>
                  {r.evaluable ? (
                    <>
                      <AccuracyCell accuracy={r.accuracy} n={r.labelledSamples} />
                      {(['local', 'edge', 'cloud'] as const).map((t) => (
                        <td key={t} className="num">
                          {fmtPct(r.exits.find((e) => e.tier === t)?.exitRate ?? 0)}
                        </td>
                      ))}
                      <td className="num">{fmtBytes(r.bytesPerSample)}</td>
                      <td className="num" data-testid="compare-latency">
                        {fmtNum(r.latency.meanMs, 1)} ms
                      </td>
                      <td>{r.dominated ? 'dominated' : 'frontier'}</td>
                    </>
                  ) : (
                    <td colSpan={7} className="muted" style={{ whiteSpace: 'normal' }}>
                      not evaluable: {r.reason}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}

function Inner() {
  const params = useSearchParams();
  const list = useAsync(() => api.sessions({ limit: 50 }), []);
  const [picked, setPicked] = useState<string[]>(() => (params.get('sessions') ?? '').split(',').filter(Boolean));
  const [statistic, setStatistic] = useState<ThresholdStatistic>('entropy');
  const [entropyT, setEntropyT] = useState('0.2, 0.5, 0.8');
  const [confT, setConfT] = useState('0.9');
  const [baselines, setBaselines] = useState(true);
  const [run, setRun] = useState(0);
  const [state, setState] = useState<{ loading: boolean; error?: Error; analyses?: SessionAnalysis[]; rows?: Row[]; sessions?: Map<string, SessionView> }>({ loading: false });
  useEffect(() => {
    const url = new URL(window.location.href);
    if (picked.length) url.searchParams.set('sessions', picked.join(','));
    else url.searchParams.delete('sessions');
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
      const sessions = new Map<string, SessionView>();
      for (const id of picked) {
        const session = await api.session(id);
        sessions.set(id, session);
        const link = session.configuration?.link ?? null;
        const linkModel = linkModelOf(link);
        // The API's rows (one Pareto rule, per session) and sweep, with the latency the session's link implies.
        const [compared, sweep, events] = await Promise.all([api.compare({ sessionIds: [id], policies, ...(linkModel ? { linkModel } : {}) }), api.sweep(id, statistic, 21, linkModel), allSessionEvents(id)]);
        rows.push(...(compared.rows as Row[]));
        analyses.push({ ...deviceSide(events), sweep, link });
      }
      return { analyses, rows, sessions };
    })()
      .then((r) => live && setState({ loading: false, ...r }))
      .catch((e: unknown) => live && setState({ loading: false, error: e instanceof Error ? e : new Error(String(e)) }));
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
            Evaluate exit policies counterfactually on recorded sessions (the API&apos;s compare and sweep). Accuracy carries its 95% interval over the
            session&apos;s labelled samples; latency is what the session&apos;s recorded link implies.
          </p>
        </div>
      </div>
      <Card title="Sessions and policies">
        {list.error && <ErrorNote error={list.error} what="sessions" onRetry={list.reload} />}
        {!list.data && list.loading && <Loading what="sessions" />}
        {list.data && finished.length === 0 && (
          <Empty title="No recorded session to compare yet.">
            <Link href="/sessions/new">Start a session</Link> (research mode logs every exit, so every policy can be evaluated).
          </Empty>
        )}
        <div className="check-list" style={{ marginBottom: 12 }}>
          {finished.map((s) => (
            <label key={s.id} className="inline">
              <input type="checkbox" checked={picked.includes(s.id)} onChange={(e) => setPicked(e.target.checked ? [...picked, s.id] : picked.filter((x) => x !== s.id))} />
              {s.name ? <strong>{s.name}</strong> : <span className="mono">{shortId(s.id)}</span>} {s.dataset} · {livePolicyLabel(s.policy)} · {s.mode} · {s.samplesDone}{' '}
              samples{s.configuration?.link ? ` · link ${s.configuration.link.latencyMs} ms` : ''}
            </label>
          ))}
        </div>
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
      {state.loading && !state.analyses && <Loading what="and evaluating the sessions' logs" />}
      {state.analyses && state.rows && state.sessions && <Results analyses={state.analyses} rows={state.rows} statistic={statistic} sessions={state.sessions} />}
      {!state.analyses && !state.loading && picked.length === 0 && list.data && finished.length > 0 && <Empty title="Pick one or more sessions above." />}
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
