'use client';
import { accuracyHalfWidth, type Row, type SessionAnalysis } from '../../lib/compare';
import { download, toCsv } from '../../lib/csv';
import { fmtBytes, fmtNum, fmtPct } from '../../lib/format';
import { Card } from '../ui';

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

const windowOf = (analyses: SessionAnalysis[], id: string) => analyses.find((a) => a.sessionId === id)?.window ?? null;

function rowsCsv(rows: Row[], analyses: SessionAnalysis[]): string {
  return toCsv(
    ['session', 'from_sample', 'to_sample', 'policy', 'evaluable', 'samples', 'unanswered', 'accuracy', 'local_exit_rate', 'edge_exit_rate', 'cloud_exit_rate', 'bytes_per_sample', 'mean_latency_ms', 'p95_latency_ms', 'dominated', 'reason'],
    rows.map((r) => {
      const rate = (t: string) => (r.evaluable ? (r.exits.find((e) => e.tier === t)?.exitRate ?? 0) : null);
      const w = windowOf(analyses, r.sessionId);
      return [
        r.sessionId,
        w?.fromSample ?? null,
        w?.toSample ?? null,
        r.label,
        r.evaluable,
        r.evaluable ? r.samples : null,
        r.evaluable ? r.unanswered : null,
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
    ['session', 'from_sample', 'to_sample', 'statistic', 'threshold', 'evaluable', 'accuracy', 'local_exit_rate', 'edge_exit_rate', 'cloud_exit_rate', 'bytes_per_sample', 'mean_latency_ms'],
    analyses.flatMap((a) =>
      a.sweep.points.map((p) => [
        a.sessionId,
        a.window?.fromSample ?? null,
        a.window?.toSample ?? null,
        a.sweep.statistic,
        p.threshold,
        p.evaluable,
        p.accuracy,
        p.localExitRate,
        p.exitRates.edge ?? 0,
        p.exitRates.cloud ?? 0,
        p.bytesPerSample,
        p.meanLatencyMs,
      ]),
    ),
  );
}

/** Every (run, policy) row of the API's compare, with CSV exports of it and of the sweep. */
export function PolicyTable({ analyses, rows }: { analyses: SessionAnalysis[]; rows: Row[] }) {
  const nameOf = (id: string) => analyses.find((a) => a.sessionId === id)?.name ?? id;
  return (
    <Card
      title="Policies side by side"
      actions={
        <>
          <button type="button" className="secondary" onClick={() => download('ddnn-compare.csv', rowsCsv(rows, analyses))}>
            Export table (CSV)
          </button>
          <button type="button" className="secondary" onClick={() => download('ddnn-sweep.csv', sweepCsv(analyses))}>
            Export sweep (CSV)
          </button>
        </>
      }
    >
      {rows.some((r) => r.evaluable && r.unanswered > 0) && (
        <p className="muted" data-testid="compare-unanswered-note">
          (+n) after a row&apos;s samples: samples that policy leaves without an answer, as a live run would log them (no camera answered them, or
          none delivered its features past an unsure local exit). They are in none of the row&apos;s rates or accuracy; the scores their cameras
          sent count in its bytes per sample, as on the run&apos;s own page.
        </p>
      )}
      {rows.some((r) => !r.evaluable) && (
        <p className="muted">Greyed rows cannot be evaluated: the run never computed what that policy needs (production runs log only the live path).</p>
      )}
      <div className="table-wrap">
        <table data-testid="compare-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Policy</th>
              <th className="num">Samples</th>
              <th className="num">Accuracy</th>
              <th className="num">Local</th>
              <th className="num">Edge</th>
              <th className="num">Cloud</th>
              <th className="num">Bytes / sample</th>
              <th className="num" title="What the run's recorded link model implies (none: compute only)">
                Mean latency
              </th>
              <th>Pareto (per run)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i} className={!r.evaluable || r.dominated ? 'dominated' : undefined} data-session={r.sessionId} data-pareto={r.evaluable ? (r.dominated ? 'dominated' : 'frontier') : 'none'}>
                <td>{nameOf(r.sessionId)}</td>
                <td>{r.label}</td>
                {r.evaluable ? (
                  <>
                    <td className="num" data-testid="compare-samples" data-samples={r.samples} data-unanswered={r.unanswered}>
                      {r.samples}
                      {r.unanswered > 0 && (
                        <span className="muted" data-testid="compare-unanswered" title={`${r.unanswered} more without an answer under this policy: in no rate or accuracy (the scores their cameras sent count in the bytes)`}>
                          {' '}
                          (+{r.unanswered})
                        </span>
                      )}
                    </td>
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
                  <td colSpan={8} className="muted" style={{ whiteSpace: 'normal' }}>
                    not evaluable: {r.reason}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
