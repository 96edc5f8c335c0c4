'use client';
import { type FormEvent, useState } from 'react';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { api } from '../../lib/api';
import { fmtBytes, fmtTime } from '../../lib/format';
import { modelEdges, modelViews } from '../../lib/session-form';
import { useAsync } from '../../lib/use-async';

function Upload({ onDone }: { onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [id, setId] = useState('');
  const [state, setState] = useState<{ busy: boolean; error?: Error; done?: string }>({ busy: false });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setState({ busy: true });
    try {
      const m = await api.uploadModel(file, id.trim() || undefined);
      setState({ busy: false, done: `registered ${m.id} (${m.version})` });
      onDone();
    } catch (err) {
      setState({ busy: false, error: err instanceof Error ? err : new Error(String(err)) });
    }
  };
  return (
    <form className="toolbar" onSubmit={submit} aria-label="upload a model">
      <label>
        Checkpoint archive (.tar.gz of a checkpoint folder, as ddnn train writes)
        <input type="file" name="archive" accept=".tar,.tgz,.gz" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      </label>
      <label>
        Id (optional)
        <input name="modelId" value={id} onChange={(e) => setId(e.target.value)} placeholder="new id" style={{ width: 160 }} />
      </label>
      <button type="submit" disabled={!file || state.busy} style={{ alignSelf: 'flex-end' }}>
        {state.busy ? 'Uploading…' : 'Upload and register'}
      </button>
      {state.done && <span className="muted" style={{ alignSelf: 'flex-end' }}>{state.done}</span>}
      {state.error && <ErrorNote error={state.error} action="upload" what="the model" />}
    </form>
  );
}

export default function ModelsPage() {
  const models = useAsync(() => api.models(), []);
  const datasets = useAsync(() => api.datasets(), []);
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Models and datasets</h1>
          <p>What sessions can run: registered checkpoints (their sections and sizes) and the datasets under .data/datasets.</p>
        </div>
      </div>
      <Card title="Models">
        {models.error && <ErrorNote error={models.error} what="models" onRetry={models.reload} />}
        {!models.data && models.loading && <Loading what="models" />}
        {models.data && models.data.length === 0 && <Empty title="No model registered.">npm start registers models/default; upload one below.</Empty>}
        {models.data && models.data.length > 0 && (
          <div className="table-wrap">
            <table data-testid="models-table">
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Topology</th>
                  <th>Sections</th>
                  <th className="num">Size</th>
                  <th>Registered</th>
                </tr>
              </thead>
              <tbody>
                {models.data.map((m) => (
                  <tr key={m.id} data-model={m.id}>
                    <td className="wrap">
                      <strong>{m.id}</strong> <span className="muted">{m.version}</span>
                      {m.name && m.name !== m.id && <div className="muted">{m.name}</div>}
                    </td>
                    <td className="wrap">
                      {modelViews(m).length} end devices (views {modelViews(m).join(', ')}){modelEdges(m).length ? ` · ${modelEdges(m).length} edges` : ''} · local aggregator · cloud
                    </td>
                    <td className="wrap" style={{ maxWidth: 420 }}>
                      {m.sections.map((s) => `${s.name} ${fmtBytes(s.bytes)}`).join(' · ')}
                    </td>
                    <td className="num">{fmtBytes(m.sections.reduce((a, s) => a + s.bytes, 0))}</td>
                    <td className="wrap">{fmtTime(m.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <h3 style={{ marginTop: 14 }}>Upload and register</h3>
        <Upload onDone={models.reload} />
      </Card>
      <Card title="Datasets">
        {datasets.error && <ErrorNote error={datasets.error} what="datasets" onRetry={datasets.reload} />}
        {!datasets.data && datasets.loading && <Loading what="datasets" />}
        {datasets.data && datasets.data.length === 0 && <Empty title="No dataset yet.">npm start writes one on its first start; `npm run -s ddnn -- dataset synth` writes more.</Empty>}
        {datasets.data && datasets.data.length > 0 && (
          <div className="table-wrap">
            <table data-testid="datasets-table">
              <thead>
                <tr>
                  <th>Dataset</th>
                  <th>Classes</th>
                  <th className="num">Views per sample</th>
                  <th className="num">Train</th>
                  <th className="num">Test</th>
                </tr>
              </thead>
              <tbody>
                {datasets.data.map((d) => (
                  <tr key={d.name} data-dataset={d.name}>
                    <td>
                      <strong>{d.name}</strong>
                    </td>
                    <td className="wrap">{d.classes.join(', ')}</td>
                    <td className="num">{d.views}</td>
                    <td className="num">{d.splits.train}</td>
                    <td className="num">{d.splits.test}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
