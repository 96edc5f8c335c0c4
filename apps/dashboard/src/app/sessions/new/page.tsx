'use client';
import { useRouter } from 'next/navigation';
import Link from 'next/link';
import { type FormEvent, useEffect, useState } from 'react';
import type { SimulatedFailureKind } from '@ddnn/contracts';
import { Card, ErrorNote } from '../../../components/ui';
import { api } from '../../../lib/api';
import { defaultSessionForm, FormError, modelViews, sessionRequest, type SessionFormState, simulationDevices, simulationRequest, withCatalogDefaults } from '../../../lib/session-form';
import { useAsync } from '../../../lib/use-async';
import { asError } from '../../../lib/errors';

export default function NewSessionPage() {
  const router = useRouter();
  const [f, setF] = useState<SessionFormState>(defaultSessionForm);
  const [problem, setProblem] = useState<string | null>(null);
  const [apiError, setApiError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const models = useAsync(() => api.models(), []);
  const datasets = useAsync(() => api.datasets(), []);
  const devices = useAsync(() => api.devices({ role: 'end-device', limit: 200 }), []);
  // The model, dataset and device count come from what the API has, so the defaults start a session as they are.
  useEffect(() => {
    if (models.data && datasets.data) setF((x) => withCatalogDefaults(x, models.data!, datasets.data!));
  }, [models.data, datasets.data]);
  const model = models.data?.find((m) => m.id === f.modelId);
  const set = <K extends keyof SessionFormState>(k: K, v: SessionFormState[K]) => setF((x) => ({ ...x, [k]: v }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(null);
    setApiError(null);
    try {
      // Validate everything before creating anything on the server.
      const simReq = simulationRequest(f);
      const chosen =
        f.devices === 'registered'
          ? (devices.data?.items ?? []).filter((d) => f.registered.includes(d.id)).map((d) => ({ deviceId: d.id, view: d.view }))
          : Array.from({ length: simReq!.devices }, (_, i) => ({ deviceId: `sim-${i}`, view: i }));
      sessionRequest(f, chosen);
      setBusy(true);
      // The simulation is made for this session: it records its link and failures and goes away with it.
      const sim = simReq ? await api.createSimulation(simReq) : null;
      const devs = sim ? simulationDevices(sim) : chosen;
      const { id } = await api.createSession({ ...sessionRequest(f, devs), ...(sim ? { simulationId: sim.id } : {}) });
      router.push(`/session?id=${id}`);
    } catch (err) {
      if (err instanceof FormError) setProblem(err.message);
      else setApiError(asError(err));
      setBusy(false);
    }
  };

  const failureKinds: SimulatedFailureKind[] = ['crash', 'slow', 'flaky'];
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Start a session</h1>
          <p>Run a dataset split through the device → (edge) → cloud hierarchy with an entropy exit policy.</p>
        </div>
      </div>
      <form onSubmit={submit} noValidate aria-label="start a session">
        <Card>
          <fieldset>
            <legend>What to run</legend>
            {models.error && <ErrorNote error={models.error} what="models" onRetry={models.reload} />}
            {datasets.error && <ErrorNote error={datasets.error} what="datasets" onRetry={datasets.reload} />}
            {models.data && models.data.length === 0 && (
              <p className="note error">No model is registered: npm start registers models/default; register one with POST /api/models.</p>
            )}
            {datasets.data && datasets.data.length === 0 && <p className="note error">No dataset in the API's data folder (.data/datasets, or DDNN_DATA_DIR/datasets when it was given one): npm start writes one on its first start.</p>}
            <div className="form-grid">
              <label>
                Run name (optional)
                <input name="name" value={f.name} placeholder="unnamed" onChange={(e) => set('name', e.target.value)} />
              </label>
              <label>
                Tags (optional, comma separated)
                <input name="tags" value={f.tags} placeholder="baseline, night" onChange={(e) => set('tags', e.target.value)} />
              </label>
              <label>
                Model
                <select
                  name="modelId"
                  value={f.modelId}
                  onChange={(e) => setF((x) => withCatalogDefaults(x, models.data ?? [], datasets.data ?? [], e.target.value))}
                  disabled={!models.data?.length}
                >
                  {(models.data ?? []).map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.name && m.name !== m.id ? `${m.id} – ${m.name}` : m.id} ({modelViews(m).length} views)
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Dataset
                <select name="dataset" value={f.dataset} onChange={(e) => set('dataset', e.target.value)} disabled={!datasets.data?.length}>
                  {(datasets.data ?? []).map((d) => (
                    <option key={d.name} value={d.name}>
                      {d.name} ({d.splits.test} test · {d.views} views · {d.classes.join('/')})
                    </option>
                  ))}
                </select>
              </label>
              <label>
                Split
                <select name="split" value={f.split} onChange={(e) => set('split', e.target.value as 'train' | 'test')}>
                  <option>test</option>
                  <option>train</option>
                </select>
              </label>
              <label>
                Sample limit (optional)
                <input name="limit" inputMode="numeric" placeholder="whole split" value={f.limit} onChange={(e) => set('limit', e.target.value)} />
              </label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Topology</legend>
            <div className="form-grid">
              <label>
                Devices
                <select name="devices" value={f.devices} onChange={(e) => set('devices', e.target.value as 'simulated' | 'registered')}>
                  <option value="simulated">simulated in the server</option>
                  <option value="registered">registered devices</option>
                </select>
              </label>
              {f.devices === 'simulated' ? (
                <label>
                  Simulated end devices
                  <input name="simulatedCount" inputMode="numeric" value={f.simulatedCount} onChange={(e) => set('simulatedCount', e.target.value)} />
                </label>
              ) : (
                <div className="wide">
                  {devices.error && <ErrorNote error={devices.error} what="devices" />}
                  {devices.data && devices.data.items.length === 0 && <p className="muted">No registered end devices: use simulated ones or connect a device.</p>}
                  <div className="check-list">
                    {devices.data?.items.map((d) => (
                      <label key={d.id} className="inline">
                        <input
                          type="checkbox"
                          checked={f.registered.includes(d.id)}
                          onChange={(e) => set('registered', e.target.checked ? [...f.registered, d.id] : f.registered.filter((x) => x !== d.id))}
                        />
                        {d.name}
                        {d.simulated ? ' (sim)' : ''} (view {d.view ?? '–'}){d.connectivity.active ? '' : ' · inactive'}
                      </label>
                    ))}
                  </div>
                </div>
              )}
              <label>
                Edge nodes (0 = none)
                <input name="edges" inputMode="numeric" value={f.edges} onChange={(e) => set('edges', e.target.value)} />
              </label>
            </div>
          </fieldset>
          <fieldset>
            <legend>Exit policy</legend>
            <div className="form-grid">
              <label>
                Local threshold T (exit if entropy &lt; T)
                <input name="thresholdLocal" inputMode="decimal" value={f.thresholdLocal} onChange={(e) => set('thresholdLocal', e.target.value)} />
              </label>
              <label>
                Edge threshold (with edge nodes)
                <input name="thresholdEdge" inputMode="decimal" value={f.thresholdEdge} disabled={f.edges.trim() === '0' || !f.edges.trim()} onChange={(e) => set('thresholdEdge', e.target.value)} />
              </label>
              <label>
                Mode
                <select name="mode" value={f.mode} onChange={(e) => set('mode', e.target.value as 'production' | 'research')}>
                  <option value="production">production (live path only)</option>
                  <option value="research">research (every exit, for replay analysis)</option>
                </select>
              </label>
              <label>
                Device deadline (ms)
                <input name="deadlineMs" inputMode="numeric" value={f.deadlineMs} onChange={(e) => set('deadlineMs', e.target.value)} />
              </label>
              <label>
                Rate (samples/s, optional)
                <input name="rate" inputMode="decimal" placeholder="as fast as possible" value={f.rate} onChange={(e) => set('rate', e.target.value)} />
              </label>
            </div>
          </fieldset>
          {f.devices === 'simulated' && (
            <fieldset>
              <legend>Simulated network and failures</legend>
              <div className="form-grid">
                <label>
                  Link latency (ms)
                  <input name="latencyMs" inputMode="decimal" placeholder="none" value={f.latencyMs} onChange={(e) => set('latencyMs', e.target.value)} />
                </label>
                <label>
                  Link bandwidth (kbit/s)
                  <input name="bandwidthKbps" inputMode="decimal" placeholder="unlimited" value={f.bandwidthKbps} onChange={(e) => set('bandwidthKbps', e.target.value)} />
                </label>
                {f.failures.map((x, i) => (
                  <div key={i} className="full toolbar" style={{ margin: 0 }} data-testid={`failure-${i}`}>
                    <label className="inline">
                      Device #
                      <input aria-label="device" style={{ width: 60 }} value={x.device} onChange={(e) => set('failures', f.failures.map((y, j) => (j === i ? { ...y, device: e.target.value } : y)))} />
                    </label>
                    <label className="inline">
                      <select aria-label="kind" value={x.kind} onChange={(e) => set('failures', f.failures.map((y, j) => (j === i ? { ...y, kind: e.target.value as SimulatedFailureKind } : y)))}>
                        {failureKinds.map((k) => (
                          <option key={k}>{k}</option>
                        ))}
                      </select>
                    </label>
                    <label className="inline">
                      from sample
                      <input aria-label="from sample" style={{ width: 80 }} value={x.atSample} onChange={(e) => set('failures', f.failures.map((y, j) => (j === i ? { ...y, atSample: e.target.value } : y)))} />
                    </label>
                    <button type="button" className="link" onClick={() => set('failures', f.failures.filter((_, j) => j !== i))}>
                      remove
                    </button>
                  </div>
                ))}
                <div className="full">
                  <button type="button" className="secondary" onClick={() => set('failures', [...f.failures, { device: '0', atSample: '0', kind: 'crash' }])}>
                    Add a failure
                  </button>{' '}
                  <span className="muted">crash: stops answering; slow: answers after the deadline; flaky: misses every other request.</span>
                </div>
              </div>
            </fieldset>
          )}
          {problem && (
            <div className="note error" role="alert">
              {problem}
            </div>
          )}
          {apiError && <ErrorNote error={apiError} action="start" what="the session" />}
          {model && f.devices === 'simulated' && (
            <p className="muted">
              Model {model.id} has device sections for views {modelViews(model).join(', ')}. Simulated devices are deleted when the session ends;
              their names stay in its log. <Link href="/devices">Registered devices</Link> are kept.
            </p>
          )}
          <button type="submit" disabled={busy || !f.modelId || !f.dataset}>
            {busy ? 'Starting…' : 'Start session'}
          </button>
        </Card>
      </form>
    </>
  );
}
