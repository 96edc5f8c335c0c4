'use client';
import { useState } from 'react';
import type { CompareRow, SampleWindow } from '@ddnn/contracts';
import { api } from '../lib/api';
import { presetPolicies } from '../lib/compare';
import { fmtBytes, fmtMs, fmtPct } from '../lib/format';
import { Card, ErrorNote } from './ui';
import { asError } from '../lib/errors';

/**
 * Counterfactual policies on one window of a run (POST /api/analysis/compare with `windows`): what the stream
 * would have done over those samples under other thresholds. A production stream logs only what its live
 * policy needed, so policies that need more are shown as not evaluable, with the reason.
 */
export function WindowCompare({ runId, window }: { runId: string; window: SampleWindow | null }) {
  const [state, setState] = useState<{ busy: boolean; rows?: CompareRow[]; on?: SampleWindow; error?: Error }>({ busy: false });
  const run = async () => {
    if (!window) return;
    setState({ busy: true });
    try {
      const policies = presetPolicies({ entropy: [0.2, 0.5, 0.8], confidence: [0.9], baselines: true });
      const { rows } = await api.compare({ sessionIds: [runId], policies, windows: { [runId]: window } });
      setState({ busy: false, rows, on: window });
    } catch (e) {
      setState({ busy: false, error: asError(e) });
    }
  };
  return (
    <Card
      title="Compare policies over this window"
      actions={
        <button type="button" className="secondary" onClick={run} disabled={!window || state.busy}>
          {state.busy ? 'Evaluating…' : 'Compare'}
        </button>
      }
    >
      {!window && <p className="muted">No sample was decided in this window: nothing to compare.</p>}
      {window && !state.rows && !state.error && (
        <p className="muted">
          Evaluates entropy, confidence and baseline policies on samples {window.fromSample}–{window.toSample} from the log alone.
        </p>
      )}
      {state.error && <ErrorNote error={state.error} action="evaluate" what="the window" />}
      {state.rows && state.on && (
        <>
          <p className="muted" data-testid="compare-window">
            Samples {state.on.fromSample}–{state.on.toSample}
          </p>
          <div className="table-wrap">
            <table data-testid="window-compare">
              <thead>
                <tr>
                  <th>Policy</th>
                  <th className="num">Samples</th>
                  <th className="num">Accuracy (labelled)</th>
                  <th className="num">Local exits</th>
                  <th className="num">Bytes/sample</th>
                  <th className="num">Mean latency</th>
                </tr>
              </thead>
              <tbody>
                {state.rows.map((r) =>
                  r.evaluable ? (
                    <tr key={r.label}>
                      <td>
                        {r.label}
                        {r.dominated === false && <span className="badge"> frontier</span>}
                      </td>
                      <td className="num">{r.samples}</td>
                      <td className="num">
                        {fmtPct(r.accuracy)} <span className="muted">({r.labelledSamples})</span>
                      </td>
                      <td className="num">{fmtPct(r.localExitRate)}</td>
                      <td className="num">{fmtBytes(r.bytesPerSample)}</td>
                      <td className="num">{fmtMs(r.latency.meanMs)}</td>
                    </tr>
                  ) : (
                    <tr key={r.label}>
                      <td>{r.label}</td>
                      <td colSpan={5} className="muted" style={{ whiteSpace: 'normal' }}>
                        not evaluable: {r.reason}
                      </td>
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Card>
  );
}
