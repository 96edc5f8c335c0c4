import type { CompareRow, PolicySpec, StoredEvent, SweepResult, ThresholdStatistic } from '@ddnn/contracts';
import { evaluatePolicy, paretoFrontier, policyLabel, type SessionSampleTable, sessionSamplesFromEvents, sweep } from '@ddnn/policies';

/** One device's share in a session: how often it answered and how often its own exit was right. */
export interface DeviceContribution {
  sessionId: string;
  deviceId: string;
  view: number;
  answerRate: number;
  /** Its own (device exit) accuracy over answered labelled samples. */
  accuracy: number | null;
}

export interface SessionAnalysis {
  sessionId: string;
  samples: number;
  table: SessionSampleTable;
  sweep: SweepResult;
  devices: DeviceContribution[];
  /** Samples where at least one device missed a stage (a fault scenario shows up here). */
  samplesWithMisses: number;
}

/** Per-device answer rate and own-exit accuracy from a session's sample table. */
export function deviceContributions(t: SessionSampleTable): DeviceContribution[] {
  const d = t.devices.length;
  const c = t.classes.length;
  return t.devices.map((dev, j) => {
    let answered = 0;
    let labelled = 0;
    let right = 0;
    for (let s = 0; s < t.n; s++) {
      if (!t.device.answered[s * d + j]) continue;
      answered++;
      if (t.label[s] < 0) continue;
      labelled++;
      let best = 0;
      for (let k = 1; k < c; k++) if (t.device.probabilities[(s * d + j) * c + k] > t.device.probabilities[(s * d + j) * c + best]) best = k;
      if (best === t.label[s]) right++;
    }
    return { sessionId: t.sessionId, deviceId: dev.deviceId, view: dev.view, answerRate: t.n ? answered / t.n : 0, accuracy: labelled ? right / labelled : null };
  });
}

/** Builds a session's table, its threshold sweep and device contributions (all in the browser). */
export function analyzeSession(events: StoredEvent[], statistic: ThresholdStatistic, points = 21): SessionAnalysis {
  const table = sessionSamplesFromEvents(events);
  const d = table.devices.length;
  let samplesWithMisses = 0;
  for (let s = 0; s < table.n; s++) {
    for (let j = 0; j < d; j++) {
      if (!table.device.answered[s * d + j]) {
        samplesWithMisses++;
        break;
      }
    }
  }
  return { sessionId: table.sessionId, samples: table.n, table, sweep: sweep(table, statistic, points), devices: deviceContributions(table), samplesWithMisses };
}

/** Every policy on every session, with the accuracy-vs-bytes Pareto marks across all rows. */
export function compareRows(analyses: SessionAnalysis[], policies: PolicySpec[]): (CompareRow & { label: string })[] {
  const rows = analyses.flatMap((a) => policies.map((p) => evaluatePolicy(a.table, p)));
  return paretoFrontier(rows.map((r) => (r.evaluable ? r : { ...r, accuracy: undefined, bytesPerSample: undefined }))) as (CompareRow & { label: string })[];
}

/** The policy presets the Compare page offers, given its threshold inputs. */
export function presetPolicies(o: { entropy: number[]; confidence: number[]; baselines: boolean }): PolicySpec[] {
  const list: PolicySpec[] = [
    ...o.entropy.map((t): PolicySpec => ({ kind: 'entropy', thresholds: { local: t, edge: t } })),
    ...o.confidence.map((t): PolicySpec => ({ kind: 'confidence', thresholds: { local: t, edge: t } })),
  ];
  if (o.baselines) list.push({ kind: 'always-local' }, { kind: 'always-cloud' }, { kind: 'raw-offload' });
  return list.map((p) => ({ ...p, name: policyLabel(p).replace(/T=([\d.]+)\/\1/, 'T=$1') }));
}

/** Parses "0.2, 0.5 0.8" into thresholds in [0, 1]; throws naming the bad entry. */
export function parseThresholds(text: string, what: string): number[] {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  return parts.map((p) => {
    const x = Number(p);
    if (!Number.isFinite(x) || x < 0 || x > 1) throw new Error(`${what}: "${p}" is not a threshold in [0, 1]`);
    return x;
  });
}
