import type {
  ExitDecided,
  ExitTier,
  LinkMessage,
  MessageSizes,
  NewEvent,
  PolicySpec,
  SectionOutput,
  SessionMode,
  SessionTopology,
} from '@ddnn/contracts';
import { argmax, edgeExitProbabilities, exitRuleOf, normalizedEntropy, thresholdOfTau, uncertainty, type ExitRule } from './statistics';

/**
 * The exit core: the one definition of a sample's exit decisions, its answering exit and the bytes each link
 * carries. The live runner (apps/api sample-runner), the synthetic session generator and the counterfactual
 * evaluation (through `exitCode` and `carries`, on typed arrays) all decide with it.
 */

/** Exit codes of `exitCode`: an exit that answers, or the stage whose outputs the decision still needs. */
export const LOCAL = 0;
export const EDGE = 1;
export const CLOUD = 2;
export const NEEDS_EDGE = 3;
export const NEEDS_CLOUD = 4;

/**
 * The exit rule on one sample: the local exit answers when its uncertainty is below tau; otherwise, with an
 * edge tier, the edge exit once the edge stage ran (NaN uncertainty = no output: never exits); otherwise the
 * cloud once it ran. `uLocal`/`uEdge` are oriented so that every statistic reads "exit iff u < tau".
 */
export function exitCode(rule: ExitRule, uLocal: number, uEdge: number, edgeTier: boolean, edgeRan: boolean, cloudRan: boolean): number {
  if (uLocal < rule.tau.local) return LOCAL;
  if (edgeTier) {
    if (!edgeRan) return NEEDS_EDGE;
    if (uEdge < rule.tau.edge) return EDGE;
  }
  return cloudRan ? CLOUD : NEEDS_CLOUD;
}

/** A hop a sample's messages take: device scores to local, device features onwards, edge features to the cloud. */
export type Hop = 'scores' | 'features' | 'edge-features';

/**
 * The byte rule: whether a hop is live (counted) traffic for a sample answered at exit code `exit`. Scores
 * always; device features once the sample goes past the local exit; edge features once it goes past the edge.
 * Traffic a research session sends anyway is shadow.
 */
export function carries(hop: Hop, exit: number): boolean {
  if (hop === 'scores') return true;
  if (hop === 'features') return exit !== LOCAL;
  return exit === CLOUD;
}

const TIER_OF: ExitTier[] = ['local', 'edge', 'cloud'];

/** One exit's output for a sample: class probabilities and their normalized entropy, as logged. */
export interface ExitOutput {
  probabilities: ArrayLike<number>;
  entropy: number;
}

/**
 * What a sample's sections produced so far, stage by stage. `undefined` = the stage has not run (yet); the
 * core then says which stage it needs next.
 */
export interface SampleOutputs {
  /** Per topology device, in topology order: answered the scores stage. */
  scores: readonly boolean[];
  /** The local aggregate of the answering devices' scores; null when none answered. */
  local: ExitOutput | null;
  /** Per topology device: delivered its features when asked (devices that missed scores are not asked). */
  features?: readonly boolean[];
  /** Per topology edge, in topology order: its output, null where the edge node failed. */
  edges?: readonly (ExitOutput | null)[];
  cloud?: ExitOutput;
}

/** What a sample runs under: fixed for a session. */
export interface ExitPlan {
  topology: SessionTopology;
  messageSizes: MessageSizes;
  policy: PolicySpec;
  mode: SessionMode;
}

export type ExitCheck = Pick<ExitDecided, 'tier' | 'eta' | 'threshold' | 'exited' | 'prediction' | 'shadow'>;
export type Transfer = LinkMessage;
export type Stage = 'features' | 'edge' | 'cloud';

export interface SampleExit {
  /** Exit checks and messages, each in causal order; prefixes of what a later call with more outputs returns. */
  checks: ExitCheck[];
  transfers: Transfer[];
  /**
   * The exit that answered the sample; null while it needs a stage that has not run, and null for good (with `next`
   * null) when nothing reached the exit that had to answer: no device answered, or the local exit was unsure and no
   * device delivered its features. The sample has no answer (SampleUnanswered).
   */
  answer: { tier: ExitTier; prediction: number } | null;
  /**
   * The stage to run next: the one the answer needs, or, in research mode, the next shadow stage until the cloud
   * ran. Null when the sample is done.
   */
  next: Stage | null;
}

/** The entropy logged with a section: normalized, clamped to [0, 1] against rounding. */
export function loggedEntropy(p: ArrayLike<number>): number {
  return Math.min(1, Math.max(0, normalizedEntropy(p)));
}

/** The policy's exit rule; raw offload has no exits to decide (the counterfactual evaluates it apart). */
export function liveRuleOf(policy: PolicySpec): ExitRule {
  const rule = exitRuleOf(policy);
  if (!rule) throw new Error('raw offload has no early exits: a sample cannot be run under it');
  return rule;
}

/** The user-facing threshold logged with a check; null where a policy always or never exits there. */
function loggedThreshold(rule: ExitRule, tier: 'local' | 'edge'): number | null {
  const t = thresholdOfTau(rule.statistic, rule.tau[tier]);
  return Number.isFinite(t) ? t : null;
}

/**
 * Decides one sample from the outputs its sections produced so far: the exit checks (live and shadow), the
 * answering exit, the messages on every link (message sizes from the session's accounting), and the stage
 * still to run. Pure: the live runner calls it after each stage; the synthetic generator the same way.
 */
export function decideSample(plan: ExitPlan, out: SampleOutputs, rule: ExitRule = liveRuleOf(plan.policy)): SampleExit {
  const { topology, messageSizes: sizes } = plan;
  const research = plan.mode === 'research';
  const devices = topology.devices;
  const edges = topology.edges ?? [];
  if (out.scores.length !== devices.length) throw new Error(`scores: ${out.scores.length} entries for ${devices.length} devices`);
  if (out.features && out.features.length !== devices.length) throw new Error(`features: ${out.features.length} entries for ${devices.length} devices`);
  if (out.edges && out.edges.length !== edges.length) throw new Error(`edges: ${out.edges.length} entries for ${edges.length} edges`);
  const checks: ExitCheck[] = [];
  const transfers: Transfer[] = [];
  const check = (c: ExitCheck) => checks.push(c);
  const send = (t: Transfer) => transfers.push(t);
  let answer: SampleExit['answer'] = null;
  let answerCode = -1;
  const result = (next: Stage | null): SampleExit => ({ checks, transfers, answer, next });
  const answered = (code: number, prediction: number) => {
    if (answer) return;
    answer = { tier: TIER_OF[code], prediction };
    answerCode = code;
  };
  const u = (o: { probabilities: ArrayLike<number>; entropy: number }) => uncertainty(rule.statistic, o.probabilities, o.entropy);

  devices.forEach((d, i) => {
    if (out.scores[i]) send({ from: d.deviceId, to: 'local', kind: 'scores', bytes: sizes.scoresBytes, shadow: !carries('scores', LOCAL) });
  });
  const uLocal = out.local ? u(out.local) : NaN;
  const localExits = exitCode(rule, uLocal, NaN, false, false, false) === LOCAL;
  if (out.local) {
    const prediction = argmax(out.local.probabilities);
    check({ tier: 'local', eta: out.local.entropy, threshold: loggedThreshold(rule, 'local'), exited: localExits, prediction, shadow: false });
    if (localExits) answered(LOCAL, prediction);
  } else {
    // No device answered: nothing reached the local aggregator, and nothing goes on either (features come only from
    // devices that answered). Every later exit would answer from its biases alone, the same class whatever happened:
    // the sample has no answer (SampleUnanswered), rather than one made up.
    check({ tier: 'local', eta: 1, threshold: loggedThreshold(rule, 'local'), exited: false, prediction: -1, shadow: false });
    return result(null);
  }
  if (answer && !research) return result(null);

  if (!out.features) return result('features');
  // Shadow when the live path already answered: what the sample's final exit would not have sent.
  const shadowNow = (hop: Hop) => answerCode >= 0 && !carries(hop, answerCode);
  devices.forEach((d, i) => {
    if (out.scores[i] && out.features?.[i]) {
      send({ from: d.deviceId, to: d.edge ?? 'cloud', kind: 'features', bytes: sizes.featuresBytes, shadow: shadowNow('features') });
    }
  });
  // No device delivered its features: the edges and the cloud would answer from nothing (zero-filled inputs, the
  // same class whatever the sample). Nothing runs past the local exit; unless it answered, the sample has no answer.
  if (!featuresReachedOn(out.scores, out.features)) return result(null);

  if (edges.length > 0) {
    if (!out.edges) return result('edge');
    const present = out.edges.filter((o): o is ExitOutput => o !== null);
    let uEdge = NaN;
    // No edge threshold ("never"), or no edge node answered: the edge exit is not checked and the sample goes on.
    if (present.length > 0 && rule.tau.edge !== -Infinity) {
      const p = edgeExitProbabilities(present.map((o) => o.probabilities));
      const eta = loggedEntropy(p);
      uEdge = uncertainty(rule.statistic, p, eta);
      const code = exitCode(rule, NaN, uEdge, true, true, false);
      const prediction = argmax(p);
      check({ tier: 'edge', eta, threshold: loggedThreshold(rule, 'edge'), exited: code === EDGE, prediction, shadow: answer !== null });
      if (code === EDGE) answered(EDGE, prediction);
    }
    if (answer && !research) return result(null);
    if (sizes.edgeFeaturesBytes === undefined) throw new Error('messageSizes.edgeFeaturesBytes is missing for a topology with edges');
    const edgeBytes = sizes.edgeFeaturesBytes;
    edges.forEach((e, i) => {
      if (out.edges?.[i]) send({ from: e.name, to: 'cloud', kind: 'features', bytes: edgeBytes, shadow: shadowNow('edge-features') });
    });
  }

  if (!out.cloud) return result('cloud');
  const prediction = argmax(out.cloud.probabilities);
  check({ tier: 'cloud', eta: out.cloud.entropy, threshold: null, exited: true, prediction, shadow: answer !== null });
  answered(CLOUD, prediction);
  return result(null);
}

/**
 * Whether any device's features went on past the local exit for a sample whose features stage ran (per device:
 * answered the scores stage, delivered its features): the edges and the cloud have something to answer from. The
 * counterfactual (prepared tables) applies the same rule.
 */
export function featuresReachedOn(scores: ArrayLike<boolean | number>, features: ArrayLike<boolean | number> | undefined): boolean {
  for (let i = 0; i < scores.length; i++) if (scores[i] && features?.[i]) return true;
  return false;
}

/** The log's identity of a sample's exit facts. */
export interface SampleIds {
  sessionId: string;
  sampleIndex: number;
  label: number | null;
  /** The policy's label (`policyLabel`), logged with each check. */
  policy: string;
}

type DecisionEvent = 'SectionsEvaluated' | 'ExitDecided' | 'MessagesTransferred' | 'SampleUnanswered';

/**
 * Runs the core stage by stage for one sample and hands out only the exit checks not handed out before, so that a
 * caller logs each check once, in causal order, after the sections it decided on: the sections evaluated since
 * the last decision go first, in one SectionsEvaluated (a sample's cameras were one event each, most of its log);
 * once the sample is decided, its messages follow in one MessagesTransferred (a dozen events before).
 */
export class SampleDecider {
  private handedOut = 0;
  private messagesOut = false;
  private sections: SectionOutput[] = [];
  private readonly rule: ExitRule;

  constructor(
    private readonly plan: ExitPlan,
    private readonly ids: SampleIds,
  ) {
    this.rule = liveRuleOf(plan.policy);
  }

  /** Records a section's output, logged with the others of its stage ahead of the next decision's checks. */
  evaluated(section: SectionOutput): void {
    this.sections.push(section);
  }

  /**
   * Decides on the outputs so far; `events` are the sections recorded since the last decision (one
   * SectionsEvaluated), the new ExitDecided payloads, then, when done, the MessagesTransferred, or the
   * SampleUnanswered of a sample nothing reached the answering exit of.
   */
  decide(out: SampleOutputs): SampleExit & { events: NewEvent<DecisionEvent>[] } {
    const r = decideSample(this.plan, out, this.rule);
    const { sessionId, sampleIndex, label, policy } = this.ids;
    const events: NewEvent<DecisionEvent>[] = [];
    if (this.sections.length > 0) {
      events.push({ type: 'SectionsEvaluated', data: { sessionId, sampleIndex, sections: this.sections } });
      this.sections = [];
    }
    for (let i = this.handedOut; i < r.checks.length; i++) events.push({ type: 'ExitDecided', data: { sessionId, sampleIndex, ...r.checks[i], policy, label } });
    this.handedOut = r.checks.length;
    if (r.next === null && r.transfers.length > 0 && !this.messagesOut) {
      this.messagesOut = true;
      events.push({ type: 'MessagesTransferred', data: { sessionId, sampleIndex, messages: r.transfers } });
    }
    if (r.next === null && r.answer === null) events.push({ type: 'SampleUnanswered', data: { sessionId, sampleIndex, label } });
    return { ...r, events };
  }
}
