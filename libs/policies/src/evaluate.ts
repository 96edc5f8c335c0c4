import type {
  ExitOutcome,
  ExitTier,
  LinkModel,
  LinkTraffic,
  PolicyResult,
  PolicySpec,
} from '@ddnn/contracts';
import { latencyColumns, type LatencyColumns } from './latency';
import { prepare, type PreparedTable } from './prepared';
import type { SessionSampleTable } from './session-table';
import { policyLabel } from './policy-json';
import { exitRuleOf, type ExitRule } from './statistics';
import { carries, CLOUD, EDGE, exitCode, LOCAL, NEEDS_CLOUD, NEEDS_EDGE } from './exit-core';

/** Tier codes in the per-sample outcome buffer: the exit core's. */
export { CLOUD, EDGE, LOCAL };
/** The sample needs an output the session never computed. */
export const UNKNOWN = 255;
/** The sample goes past the local exit, but none of its features went on: it has no answer (SampleUnanswered live). */
export const UNANSWERED = 254;
const TIERS: ExitTier[] = ['local', 'edge', 'cloud'];

/** Aggregate counts of one policy on one table. */
export interface Counts {
  exited: [number, number, number];
  correct: [number, number, number];
  labelled: [number, number, number];
  /** Samples that needed an exit's output that was never computed, per exit. */
  missing: [number, number, number];
  /**
   * Samples the policy leaves without an answer (UNANSWERED): in no exit and no accuracy; the scores their devices
   * sent count in the bytes (a live run logs them), over the answered samples as the live summary counts them.
   */
  unanswered: number;
  scoresBytes: number;
  featuresBytes: number;
  rawBytes: number;
  latencySum: number;
}

function emptyCounts(): Counts {
  return {
    exited: [0, 0, 0],
    correct: [0, 0, 0],
    labelled: [0, 0, 0],
    missing: [0, 0, 0],
    unanswered: 0,
    scoresBytes: 0,
    featuresBytes: 0,
    rawBytes: 0,
    latencySum: 0,
  };
}

/**
 * Applies an exit rule to every sample in one pass over typed arrays, writing each sample's exit code
 * into `tiers`. This is the single definition of the counterfactual: sweep and evaluatePolicy both use it.
 */
export function runRule(p: PreparedTable, rule: ExitRule, tiers: Uint8Array, lat: LatencyColumns | null): Counts {
  const t = p.table;
  const k = emptyCounts();
  const uL = p.uncertainty(rule.statistic, 'local');
  const hasEdge = t.edge !== null;
  const uE = hasEdge ? p.uncertainty(rule.statistic, 'edge') : uL;
  const edgeReached = t.edgeReached;
  const cloudOk = t.cloud.computed;
  const { correct, labelled, scoresBytes, featuresBytes, edgeBytes, unfed } = p;
  const cE = correct.edge ?? correct.local;
  const latEdge = lat?.edge ?? lat?.cloud;
  for (let s = 0; s < t.n; s++) {
    // u is NaN where an exit has no output (no device / no edge node answered): NaN < tau never exits.
    const tier = exitCode(rule, uL[s], uE[s], hasEdge, edgeReached[s] === 1, cloudOk[s] === 1);
    if (tier !== LOCAL && unfed[s]) {
      // Logs from before the exit core stopped here may hold edge and cloud outputs computed from nothing: ignored.
      k.unanswered++;
      k.scoresBytes += scoresBytes[s];
      tiers[s] = UNANSWERED;
      continue;
    }
    if (tier === NEEDS_EDGE || tier === NEEDS_CLOUD) {
      // The live session never computed the output this sample needs (a production session).
      k.missing[tier === NEEDS_EDGE ? EDGE : CLOUD]++;
      tiers[s] = UNKNOWN;
      continue;
    }
    tiers[s] = tier;
    k.exited[tier]++;
    k.labelled[tier] += labelled[s];
    k.correct[tier] += tier === LOCAL ? correct.local[s] : tier === EDGE ? cE[s] : correct.cloud[s];
    if (carries('scores', tier)) k.scoresBytes += scoresBytes[s];
    if (carries('features', tier)) k.featuresBytes += featuresBytes[s];
    if (carries('edge-features', tier)) k.featuresBytes += edgeBytes[s];
    if (lat && latEdge) k.latencySum += tier === LOCAL ? lat.local[s] : tier === EDGE ? latEdge[s] : lat.cloud[s];
  }
  return k;
}

/**
 * Raw offload: every sample answered by the cloud from the present devices' raw views. The cloud's output on the
 * features stands in for its answer on raw views, so a sample whose features never went on is unanswered here too.
 */
export function runRawOffload(p: PreparedTable, tiers: Uint8Array, lat: LatencyColumns | null): Counts {
  const t = p.table;
  const k = emptyCounts();
  for (let s = 0; s < t.n; s++) {
    if (p.unfed[s]) {
      k.unanswered++;
      k.rawBytes += p.rawBytes[s];
      tiers[s] = UNANSWERED;
      continue;
    }
    if (!t.cloud.computed[s]) {
      k.missing[CLOUD]++;
      tiers[s] = UNKNOWN;
      continue;
    }
    tiers[s] = CLOUD;
    k.exited[CLOUD]++;
    k.labelled[CLOUD] += p.labelled[s];
    k.correct[CLOUD] += p.correct.cloud[s];
    k.rawBytes += p.rawBytes[s];
    if (lat) k.latencySum += lat.raw[s];
  }
  return k;
}

/** Why a policy cannot be evaluated, or null when it can. */
export function notEvaluableReason(t: SessionSampleTable, k: Counts): string | null {
  const parts = TIERS.flatMap((tier, i) =>
    k.missing[i] > 0 ? [`the ${tier} exit was never computed for ${k.missing[i]} of ${t.n} samples that need it`] : [],
  );
  if (parts.length === 0) return null;
  const why = t.mode === 'production' ? ' (a production session computes later exits only for samples that went on)' : '';
  return `${parts.join('; ')}${why}`;
}

/** Samples a policy answered (the denominator of its rates and per-sample bytes): the table's less its unanswered. */
export function answeredSamples(t: SessionSampleTable, k: Counts): number {
  return t.n - k.unanswered;
}

/** Overall accuracy over labelled samples, or null when none is labelled. */
export function accuracyOf(k: Counts): number | null {
  const labelled = k.labelled[0] + k.labelled[1] + k.labelled[2];
  return labelled === 0 ? null : (k.correct[0] + k.correct[1] + k.correct[2]) / labelled;
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Counterfactual evaluation of a policy on a recorded session: what a live session with this policy
 * would have answered, sent (non-shadow bytes) and how long it would have taken, from the events alone.
 */
export function evaluatePolicy(table: SessionSampleTable, policy: PolicySpec, linkModel?: LinkModel): PolicyResult {
  const p = prepare(table);
  const t = table;
  const tiers = new Uint8Array(t.n);
  const lat = latencyColumns(t, linkModel);
  const rule = exitRuleOf(policy);
  const k = rule ? runRule(p, rule, tiers, lat) : runRawOffload(p, tiers, lat);
  const label = policyLabel(policy);
  const reason = notEvaluableReason(t, k);
  if (reason) {
    return {
      evaluable: false,
      sessionId: t.sessionId,
      policy,
      label,
      reason,
      missing: TIERS.flatMap((tier, i) => (k.missing[i] > 0 ? [{ tier, samples: k.missing[i] }] : [])),
    };
  }
  const n = answeredSamples(t, k);
  const per = (x: number) => (n === 0 ? 0 : x / n);
  const exits: ExitOutcome[] = TIERS.flatMap((tier, i) =>
    tier === 'edge' && !t.edge
      ? []
      : [
          {
            tier,
            exited: k.exited[i],
            exitRate: per(k.exited[i]),
            accuracy: k.labelled[i] === 0 ? null : k.correct[i] / k.labelled[i],
          },
        ],
  );

  const latencies = new Float64Array(n);
  const latEdge = lat.edge ?? lat.cloud;
  for (let s = 0, i = 0; s < t.n; s++) {
    if (tiers[s] === UNANSWERED) continue;
    latencies[i++] = !rule ? lat.raw[s] : tiers[s] === LOCAL ? lat.local[s] : tiers[s] === EDGE ? latEdge[s] : lat.cloud[s];
  }
  latencies.sort();

  return {
    evaluable: true,
    sessionId: t.sessionId,
    policy,
    label,
    samples: n,
    unanswered: k.unanswered,
    labelledSamples: p.labelled.reduce((a, b, s) => a + (tiers[s] === UNANSWERED ? 0 : b), 0),
    accuracy: accuracyOf(k),
    exits,
    localExitRate: per(k.exited[LOCAL]),
    bytesPerSample: per(k.scoresBytes + k.featuresBytes + k.rawBytes),
    bytesByKind: { scores: per(k.scoresBytes), features: per(k.featuresBytes), raw: per(k.rawBytes) },
    links: linkTraffic(t, tiers, rule === null, n),
    latency: {
      meanMs: per(k.latencySum),
      p50Ms: quantile(latencies, 0.5),
      p95Ms: quantile(latencies, 0.95),
      maxMs: n === 0 ? 0 : latencies[n - 1],
    },
  };
}

/**
 * Messages and bytes per answered sample on every link, following the byte rule (see README); a sample left without
 * an answer sent its devices' scores (or, raw offload, their views) and nothing more.
 */
function linkTraffic(t: SessionSampleTable, tiers: Uint8Array, raw: boolean, answered: number): LinkTraffic[] {
  const D = t.devices.length;
  const E = t.edges.length;
  const scores = new Float64Array(D);
  const features = new Float64Array(D);
  const rawMsgs = new Float64Array(D);
  const edgeUp = new Float64Array(E);
  for (let s = 0; s < t.n; s++) {
    const tier = tiers[s];
    for (let d = 0; d < D; d++) {
      const answered = t.device.answered[s * D + d];
      if (raw) rawMsgs[d] += answered;
      else if (tier === UNANSWERED) scores[d] += answered;
      else {
        if (carries('scores', tier)) scores[d] += answered;
        if (carries('features', tier)) features[d] += t.device.featuresSent[s * D + d];
      }
    }
    if (!raw && carries('edge-features', tier)) for (let e = 0; e < E; e++) edgeUp[e] += t.edgeNodes.computed[s * E + e];
  }
  const messagesOf = (i: number) => {
    const l = t.links[i];
    if (l.kind === 'raw') return rawMsgs[t.devices.findIndex((d) => d.deviceId === l.from)];
    if (l.fromTier === 'edge') return edgeUp[t.edges.findIndex((e) => e.name === l.from)];
    const d = t.devices.findIndex((x) => x.deviceId === l.from);
    return l.kind === 'scores' ? scores[d] : features[d];
  };
  return t.links.map((l, i) => {
    const messages = messagesOf(i);
    return { from: l.from, to: l.to, kind: l.kind, messages, bytesPerSample: answered === 0 ? 0 : (messages * l.bytes) / answered };
  });
}
