import type { BudgetPolicy, ExitThresholds } from '@ddnn/contracts';
import { accuracyOf, answeredSamples, LOCAL, notEvaluableReason, runRule } from './evaluate';
import { prepare } from './prepared';
import type { SessionSampleTable } from './session-table';
import { thresholdOfTau, type ExitRule } from './statistics';
import { UnprocessableError } from '@ddnn/contracts';

/** Edge thresholds tried per fit when the session has an edge tier (quantiles of the edge statistic). */
const EDGE_GRID = 20;

interface Candidate {
  tauLocal: number;
  tauEdge: number;
  correct: number;
  bytes: number;
}

/** A tau strictly between two sorted values, so that exactly the lower one exits. */
function between(lo: number, hi: number): number {
  const mid = lo + (hi - lo) / 2;
  return mid > lo ? mid : hi;
}

/**
 * Fits a budget policy's thresholds on one session: maximizes accuracy subject to its bytes-per-sample
 * and/or local-exit-rate constraint. For each edge threshold on a small grid, the local threshold is
 * optimal exactly: samples sorted by the local statistic, every cut scored with prefix sums.
 */
export function fitBudgetPolicy(table: SessionSampleTable, policy: BudgetPolicy): BudgetPolicy {
  const p = prepare(table);
  const n = table.n;
  if (n === 0) throw new UnprocessableError(`session ${table.sessionId}: no samples to fit a budget policy on`);
  const labelled = p.labelled.reduce((a, b) => a + b, 0);
  if (labelled === 0) throw new UnprocessableError(`session ${table.sessionId}: no labelled samples to fit a budget policy on`);
  const all = runRule(p, { statistic: 'entropy', tau: { local: -Infinity, edge: -Infinity } }, new Uint8Array(n), null);
  const missing = notEvaluableReason(table, all);
  if (missing) throw new UnprocessableError(`session ${table.sessionId}: cannot fit a budget policy: ${missing}`);

  const stat = policy.statistic;
  const uL = p.uncertainty(stat, 'local');
  // Samples with a local output sorted by its statistic, then those without one (they never exit locally).
  const finite = Uint32Array.from({ length: n }, (_, i) => i).filter((s) => !Number.isNaN(uL[s]));
  const m = finite.length;
  const order = new Uint32Array(n);
  order.set(finite.sort((a, b) => uL[a] - uL[b]));
  order.set(Uint32Array.from({ length: n }, (_, i) => i).filter((s) => Number.isNaN(uL[s])), m);
  const sortedU = Float64Array.from(order.subarray(0, m), (s) => uL[s]);

  const edgeTaus = [-Infinity];
  let uEdgeMax = 0;
  if (table.edge) {
    const uE = p.uncertainty(stat, 'edge');
    const sortedE = Float64Array.from(uE).filter((u) => !Number.isNaN(u)).sort();
    const ne = sortedE.length;
    if (ne > 0) {
      uEdgeMax = sortedE[ne - 1];
      for (let q = 0; q <= EDGE_GRID; q++) edgeTaus.push(sortedE[Math.min(ne - 1, Math.floor((q / EDGE_GRID) * (ne - 1)))]);
      edgeTaus.push(Infinity);
    }
  }

  // Samples left without an answer when the first k (in local-statistic order) exit locally: the unfed ones among
  // the rest. Rates and bytes per sample are over the others, as evaluatePolicy gives them.
  const unansweredFrom = new Uint32Array(n + 1);
  for (let j = n - 1; j >= 0; j--) unansweredFrom[j] = unansweredFrom[j + 1] + p.unfed[order[j]];
  const maxBytes = policy.maxBytesPerSample ?? Infinity;
  const minRate = policy.minLocalExitRate ?? 0;
  let best: Candidate | null = null;
  let cheapest = Infinity;
  const uE = table.edge ? p.uncertainty(stat, 'edge') : null;
  const cE = p.correct.edge ?? p.correct.cloud;
  for (const tauEdge of [...new Set(edgeTaus)]) {
    // Prefix sums over samples in local-statistic order: what exiting locally vs going on contributes.
    let correctOn = 0;
    let bytesOn = 0;
    const onCorrect = new Float64Array(n);
    const onBytes = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const s = order[j];
      const atEdge = uE !== null && uE[s] < tauEdge;
      // A sample none of whose features went on has no answer past the local exit (its scores were sent all the
      // same, as runRule counts them): scored as wrong, so the fit prefers the local answer it has.
      onCorrect[j] = p.unfed[s] ? 0 : atEdge ? cE[s] : p.correct.cloud[s];
      onBytes[j] = p.scoresBytes[s] + (p.unfed[s] ? 0 : p.featuresBytes[s] + (atEdge ? 0 : p.edgeBytes[s]));
      correctOn += onCorrect[j];
      bytesOn += onBytes[j];
    }
    let correctLocal = 0;
    let bytesLocal = 0;
    for (let k = 0; k <= m; k++) {
      if (k > 0) {
        const s = order[k - 1];
        correctLocal += p.correct.local[s];
        bytesLocal += p.scoresBytes[s];
        correctOn -= onCorrect[k - 1];
        bytesOn -= onBytes[k - 1];
      }
      if (k > 0 && k < m && sortedU[k - 1] === sortedU[k]) continue; // not a cut: ties exit together
      const bytes = bytesLocal + bytesOn;
      const answered = n - unansweredFrom[k];
      if (answered === 0) continue;
      cheapest = Math.min(cheapest, bytes / answered);
      if (bytes / answered > maxBytes || k / answered < minRate) continue;
      const correct = correctLocal + correctOn;
      if (!best || correct > best.correct || (correct === best.correct && bytes < best.bytes)) {
        const tauLocal = k === 0 ? (m > 0 ? sortedU[0] - 1 : 0) : k === m ? sortedU[m - 1] + 1 : between(sortedU[k - 1], sortedU[k]);
        best = { tauLocal, tauEdge, correct, bytes };
      }
    }
  }
  if (!best) {
    throw new UnprocessableError(
      `session ${table.sessionId}: no thresholds meet the budget (smallest achievable bytes per sample ${cheapest.toFixed(2)}` +
        (policy.minLocalExitRate !== undefined ? ` with local exit rate >= ${policy.minLocalExitRate}` : '') +
        ')',
    );
  }
  const thresholds: ExitThresholds = { local: thresholdOfTau(stat, best.tauLocal) };
  if (table.edge && best.tauEdge !== -Infinity) {
    thresholds.edge = thresholdOfTau(stat, best.tauEdge === Infinity ? uEdgeMax + 1 : best.tauEdge);
  }
  const rule: ExitRule = {
    statistic: stat,
    tau: {
      local: best.tauLocal,
      edge: thresholds.edge === undefined ? -Infinity : best.tauEdge === Infinity ? uEdgeMax + 1 : best.tauEdge,
    },
  };
  const k = runRule(p, rule, new Uint8Array(n), null);
  // The fit's own figures, as evaluatePolicy gives them: over the samples the fitted policy answers.
  const answered = Math.max(1, answeredSamples(table, k));
  return {
    ...policy,
    fitted: {
      thresholds,
      sessionId: table.sessionId,
      samples: answeredSamples(table, k),
      accuracy: accuracyOf(k) ?? 0,
      bytesPerSample: (k.scoresBytes + k.featuresBytes + k.rawBytes) / answered,
      localExitRate: k.exited[LOCAL] / answered,
    },
  };
}
