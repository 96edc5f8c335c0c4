import type { ThresholdStatistic } from '@ddnn/contracts';
import type { ExitColumns, SessionSampleTable } from './session-table';
import { featuresReachedOn } from './exit-core';
import { argmax, uncertainty } from './statistics';

/** Per-sample columns derived once per table and shared by every evaluation of it. */
export interface PreparedTable {
  table: SessionSampleTable;
  /** 1 when the exit's prediction equals the label; 0 otherwise (also unlabelled or not computed). */
  correct: { local: Uint8Array; edge: Uint8Array | null; cloud: Uint8Array };
  labelled: Uint8Array;
  /** Bytes of one sample: scores of answering devices; features of devices that deliver them; edge features. */
  scoresBytes: Float64Array;
  featuresBytes: Float64Array;
  edgeBytes: Float64Array;
  rawBytes: Float64Array;
  /**
   * 1 when no device delivered its features (each that answered missed the features stage): nothing can go past
   * the local exit, so a policy that does not answer the sample there leaves it unanswered, as the exit core does.
   */
  unfed: Uint8Array;
  uncertainty(statistic: ThresholdStatistic, exit: 'local' | 'edge'): Float64Array;
}

const cache = new WeakMap<SessionSampleTable, PreparedTable>();

function correctness(t: SessionSampleTable, cols: ExitColumns): Uint8Array {
  const c = t.classes.length;
  const out = new Uint8Array(t.n);
  for (let s = 0; s < t.n; s++) {
    out[s] = cols.computed[s] && t.label[s] >= 0 && argmax(cols.probabilities, s * c, c) === t.label[s] ? 1 : 0;
  }
  return out;
}

/** Derived columns of a table (memoized per table object). */
export function prepare(t: SessionSampleTable): PreparedTable {
  const hit = cache.get(t);
  if (hit) return hit;
  const { n } = t;
  const D = t.devices.length;
  const E = t.edges.length;
  const m = t.messageSizes;
  const scoresBytes = new Float64Array(n);
  const featuresBytes = new Float64Array(n);
  const edgeBytes = new Float64Array(n);
  const rawBytes = new Float64Array(n);
  const unfed = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    let answered = 0;
    let sent = 0;
    for (let d = 0; d < D; d++) {
      answered += t.device.answered[s * D + d];
      sent += t.device.featuresSent[s * D + d];
    }
    let edges = 0;
    for (let e = 0; e < E; e++) edges += t.edgeNodes.computed[s * E + e];
    scoresBytes[s] = answered * m.scoresBytes;
    featuresBytes[s] = sent * m.featuresBytes;
    edgeBytes[s] = edges * (m.edgeFeaturesBytes ?? 0);
    rawBytes[s] = answered * m.rawBytes;
    unfed[s] = featuresReachedOn(t.device.answered.subarray(s * D, s * D + D), t.device.featuresSent.subarray(s * D, s * D + D)) ? 0 : 1;
  }
  const stats = new Map<string, Float64Array>();
  const c = t.classes.length;
  const prepared: PreparedTable = {
    table: t,
    correct: {
      local: correctness(t, t.local),
      edge: t.edge ? correctness(t, t.edge) : null,
      cloud: correctness(t, t.cloud),
    },
    labelled: Uint8Array.from(t.label, (l) => (l >= 0 ? 1 : 0)),
    scoresBytes,
    featuresBytes,
    edgeBytes,
    rawBytes,
    unfed,
    uncertainty(statistic, exit) {
      const key = `${statistic}:${exit}`;
      let u = stats.get(key);
      if (!u) {
        const cols = exit === 'local' ? t.local : t.edge;
        u = new Float64Array(n).fill(NaN);
        if (cols) {
          for (let s = 0; s < n; s++) {
            if (cols.computed[s]) u[s] = uncertainty(statistic, cols.probabilities, cols.entropy[s], s * c, c);
          }
        }
        stats.set(key, u);
      }
      return u;
    },
  };
  cache.set(t, prepared);
  return prepared;
}
