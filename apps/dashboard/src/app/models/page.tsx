'use client';
import { type FormEvent, useState } from 'react';
import { comparedToRaw, type DatasetView, type ModelView } from '@ddnn/contracts';
import { AuthedImage } from '../../components/authed-image';
import { Card, Empty, ErrorNote, Loading } from '../../components/ui';
import { api } from '../../lib/api';
import { fmtBytes, fmtDuration, fmtPct, fmtTime } from '../../lib/format';
import { modelEdges, modelViews } from '../../lib/session-form';
import { useAsync } from '../../lib/use-async';
import { asError } from '../../lib/errors';

/**
 * Uploads a checkpoint archive. Its name is its manifest's unless given here: an archive whose manifest names none
 * is listed by a name the server makes up, so the form asks for one.
 */
function Upload({ onDone }: { onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [state, setState] = useState<{ busy: boolean; error?: Error; done?: string }>({ busy: false });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setState({ busy: true });
    try {
      const m = await api.uploadModel(file, { id: id.trim() || undefined, name: name.trim() || undefined });
      setState({ busy: false, done: `registered ${m.id} (${m.version})` });
      onDone();
    } catch (err) {
      setState({ busy: false, error: asError(err) });
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
      <label>
        Name (optional)
        <input name="modelName" value={name} onChange={(e) => setName(e.target.value)} placeholder="its manifest's" maxLength={200} style={{ width: 200 }} />
      </label>
      <button type="submit" disabled={!file || state.busy} style={{ alignSelf: 'flex-end' }}>
        {state.busy ? 'Uploading…' : 'Upload and register'}
      </button>
      {state.done && <span className="muted" style={{ alignSelf: 'flex-end' }}>{state.done}</span>}
      {state.error && <ErrorNote error={state.error} action="upload" what="the model" />}
    </form>
  );
}

/** How a model was trained and what it measured on its test split, as its checkpoint records them. */
function ModelFacts({ m }: { m: ModelView }) {
  const t = m.training;
  const test = m.testMetrics;
  return (
    <div className="model-facts" data-testid={`model-facts-${m.id}`}>
      {test ? (
        <div>
          <strong>Test split at T={m.threshold ?? '?'}</strong> ({test.samples} samples): overall {fmtPct(test.overall)} · local {fmtPct(test.local)} · cloud{' '}
          {fmtPct(test.cloud)} · {fmtPct(test.localExitRate)} exit locally · {fmtBytes(test.bytesPerSample)}/sample
          {test.rawBytesPerSample ? ` (raw images ${fmtBytes(test.rawBytesPerSample)}: ${comparedToRaw(test.bytesPerSample, test.rawBytesPerSample)})` : ''}
        </div>
      ) : (
        <div className="muted">No test metrics recorded.</div>
      )}
      {t ? (
        <div className="muted">
          Trained on {t.dataset ?? 'an unnamed dataset'}
          {t.trainSamples !== null ? ` (${t.trainSamples} samples)` : ''}
          {t.epochs !== null ? `, ${t.epochs} epochs` : ''}
          {t.batchSize !== null ? ` of batch ${t.batchSize}` : ''}
          {t.validation ? `; kept epoch ${t.validation.bestEpoch} (validation ${fmtPct(t.validation.score)} on ${t.validation.samples} samples${t.validation.stoppedEarly ? ', stopped early' : ''})` : ''}
          {t.secondsTotal !== null ? `; ${fmtDuration(t.secondsTotal * 1000)}` : ''}
          {t.backend ? ` on ${t.backend}` : ''}
          {t.exits.length > 0 && <div>Training accuracy per exit: {t.exits.map((e) => `${e.exit} ${e.samples === 0 ? 'n/a (no sample captured)' : fmtPct(e.accuracy)}`).join(' · ')}</div>}
        </div>
      ) : (
        <div className="muted">No training record.</div>
      )}
    </div>
  );
}

/** A dataset's missing-view rates and contact sheet, read from its images when the operator opens it. */
function DatasetDetailsPanel({ d }: { d: DatasetView }) {
  const details = useAsync(() => api.datasetDetails(d.name), [d.name]);
  return (
    <div className="dataset-details" data-testid={`dataset-details-${d.name}`}>
      {details.error && <ErrorNote error={details.error} what="the dataset summary" onRetry={details.reload} />}
      {!details.data && details.loading && <Loading what="the dataset summary (reads every image once)" />}
      {details.data && (
        <>
          <p className="muted">
            {details.data.samples} samples of {details.data.shape.width}x{details.data.shape.height}x{details.data.shape.channels}; {fmtPct(details.data.missingRate)} of views
            missing overall.
          </p>
          <table aria-label={`missing views of ${d.name}`}>
            <thead>
              <tr>
                <th>View</th>
                <th className="num">Captured</th>
                <th className="num">Missing</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {details.data.perView.map((v) => (
                <tr key={v.view}>
                  <td>camera {v.view}</td>
                  <td className="num">{v.present}</td>
                  <td className="num">{fmtPct(v.missingRate)}</td>
                  <td style={{ width: '40%' }}>
                    <div className="missing-bar" aria-hidden="true">
                      <span style={{ width: `${Math.round(v.missingRate * 100)}%` }} />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">Per class (train / test): {details.data.classes.map((c) => `${c.name} ${c.train} / ${c.test}`).join(' · ')}</p>
        </>
      )}
      <h4>Contact sheet</h4>
      <AuthedImage className="contact-sheet" alt={`contact sheet of ${d.name}`} load={() => api.datasetSheet(d.name)} deps={[d.name]} />
    </div>
  );
}

export default function ModelsPage() {
  const models = useAsync(() => api.models(), []);
  const datasets = useAsync(() => api.datasets(), []);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <>
      <div className="page-head">
        <div className="grow">
          <h1>Models and datasets</h1>
          <p>What sessions can run: registered checkpoints (their sections and sizes) and the datasets in the API's data folder (.data/datasets unless DDNN_DATA_DIR names another).</p>
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
                {models.data.flatMap((m) => [
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
                  </tr>,
                  <tr key={`${m.id}-facts`} className="sub-row">
                    <td colSpan={5} className="wrap">
                      <ModelFacts m={m} />
                    </td>
                  </tr>,
                ])}
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
                  <th />
                </tr>
              </thead>
              <tbody>
                {datasets.data.flatMap((d) => [
                  <tr key={d.name} data-dataset={d.name}>
                    <td>
                      <strong>{d.name}</strong>
                    </td>
                    <td className="wrap">{d.classes.join(', ')}</td>
                    <td className="num">{d.views}</td>
                    <td className="num">{d.splits.train}</td>
                    <td className="num">{d.splits.test}</td>
                    <td>
                      <button type="button" className="secondary" aria-expanded={open === d.name} onClick={() => setOpen(open === d.name ? null : d.name)}>
                        {open === d.name ? 'Hide details' : 'Details'}
                      </button>
                    </td>
                  </tr>,
                  ...(open === d.name
                    ? [
                        <tr key={`${d.name}-details`} className="sub-row">
                          <td colSpan={6} className="wrap">
                            <DatasetDetailsPanel d={d} />
                          </td>
                        </tr>,
                      ]
                    : []),
                ])}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
