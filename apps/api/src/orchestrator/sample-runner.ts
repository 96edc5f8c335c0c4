import type { EntropyPolicySpec, ExitTier, InferReply, InferRequest, MessageSizes, NewEvent, SectionOutput, SessionMode, SessionTopology, Tier } from '@ddnn/contracts';
import { softmax } from '@ddnn/ddnn';
import { featuresReachedOn, loggedEntropy, policyLabel, SampleDecider, type ExitOutput, type SampleExit, type SampleOutputs } from '@ddnn/policies';
import type { DeviceRequester, ServerSections } from './ports';
import { checkEcho, failureOf, featuresOf, latencyOf, nonFinitePath, scoresOf, shortDetail, type Failure } from './sample-runner-replies';

/** Everything a sample run needs to know about its session; plain data, so any node can rebuild it. */
export interface SessionPlan {
  sessionId: string;
  dataset: string;
  topology: SessionTopology;
  policy: EntropyPolicySpec;
  mode: SessionMode;
  deadlineMs: number;
  messageSizes: MessageSizes;
}

export interface SampleRef {
  index: number;
  sampleId: string;
  label: number | null;
}

/** Where the time of one sample went, for the session benchmark. */
export interface SampleTiming {
  /** Server-side sections (local aggregator, simulated edges, cloud). */
  serverModelMs: number;
  /** Compute the devices reported for their sections. */
  deviceModelMs: number;
  /** Waiting for device replies beyond what they computed (network, queues, sockets). */
  transportMs: number;
}

export interface SampleOutcome {
  events: NewEvent[];
  /** The exit that answered on the live path; null when the sample has no answer (SampleUnanswered). */
  exit: ExitTier | null;
  prediction: number | null;
  missed: number;
  /** Why each miss happened (for the node's log; the event log keeps the reason and a short detail). */
  missDetails: { deviceId: string; detail: string }[];
  timing: SampleTiming;
}

type Answer<T> = { value: T; latencyMs: number; elapsedMs: number };

/**
 * A device request with the session deadline. A late, failed, refused or unusable reply is a Failure, never a
 * throw: `read` turns the reply into what the sample needs and throws InvalidReplyError when it cannot.
 */
function ask<T>(
  requester: DeviceRequester,
  deviceId: string,
  req: InferRequest,
  deadlineMs: number,
  read: (reply: Extract<InferReply, { ok: true }>, elapsedMs: number) => { value: T; latencyMs: number },
): Promise<Answer<T> | Failure> {
  const t0 = performance.now();
  // One promise and one timer per request, settled by whichever comes first (a sample makes a dozen requests).
  return new Promise((resolve) => {
    // The transport enforces the deadline too; this guard keeps a sample from hanging if it does not.
    const timer = setTimeout(() => resolve({ reason: 'timeout', detail: `no reply within ${deadlineMs} ms` }), deadlineMs + 50);
    requester.request(deviceId, req, deadlineMs).then(
      (reply) => {
        clearTimeout(timer);
        // A skipped capture (a live source dropping a frame rather than lagging) is its own miss reason.
        if (!reply.ok) return resolve('skipped' in reply ? { reason: 'skipped', detail: shortDetail(String(reply.error)) } : { reason: 'error', detail: shortDetail(`device failed: ${String(reply.error)}`) });
        const elapsedMs = performance.now() - t0;
        // Caught here: a reply that cannot be read is a Failure, never a rejection.
        try {
          const answer = read(reply, elapsedMs);
          resolve({ value: answer.value, latencyMs: answer.latencyMs, elapsedMs });
        } catch (e) {
          resolve(failureOf(e));
        }
      },
      (e: unknown) => {
        clearTimeout(timer);
        resolve(failureOf(e));
      },
    );
  });
}

const isFailure = <T>(r: Answer<T> | Failure): r is Failure => 'reason' in r;

/**
 * Runs one sample through the hierarchy and returns its events in causal order: SampleStarted; the devices that
 * missed (DeviceMissed); the devices' scores and the local aggregate (one SectionsEvaluated) and the local exit;
 * then, stage by stage while the exit core asks for more (the live exit still open, or research mode's shadow
 * work), the devices' features, the edges and the cloud, each stage's sections ahead of its exit.
 * Exit decisions and bytes come from the exit core (@ddnn/policies); replies are checked against the model's
 * message sizes first, so a malformed or implausible answer is a DeviceMissed with reason `invalid`.
 */
export async function runSample(plan: SessionPlan, sample: SampleRef, requester: DeviceRequester, sections: ServerSections): Promise<SampleOutcome> {
  const { sessionId, topology, policy, mode, deadlineMs, messageSizes: sizes } = plan;
  const sampleIndex = sample.index;
  const events: NewEvent[] = [];
  const timing: SampleTiming = { serverModelMs: 0, deviceModelMs: 0, transportMs: 0 };
  const missDetails: SampleOutcome['missDetails'] = [];
  const decider = new SampleDecider({ topology, messageSizes: sizes, policy, mode }, { sessionId, sampleIndex, label: sample.label, policy: policyLabel(policy) });

  events.push({ type: 'SampleStarted', data: { sessionId, sampleIndex, sampleId: sample.sampleId, label: sample.label } });

  const miss = (deviceId: string, view: number, stage: 'scores' | 'features', f: Failure): void => {
    missDetails.push({ deviceId, detail: f.detail });
    events.push({ type: 'DeviceMissed', data: { sessionId, sampleIndex, deviceId, view, stage, deadlineMs, reason: f.reason, detail: f.detail } });
  };
  const evaluated = (tier: Tier, node: string, probabilities: number[], latencyMs: number, shadow: boolean, view?: number, capturedAt?: number): ExitOutput => {
    const entropy = loggedEntropy(probabilities);
    // Object literals in the order the log has always stored (absent fields stay absent): spreading optional
    // fields into each section cost more than the rest of building a sample's events.
    const section: SectionOutput =
      view === undefined && capturedAt === undefined
        ? { tier, node, probabilities, entropy, latencyMs, shadow }
        : capturedAt === undefined
          ? { tier, node, view, probabilities, entropy, latencyMs, shadow }
          : { tier, node, ...(view !== undefined ? { view } : {}), capturedAt, probabilities, entropy, latencyMs, shadow };
    decider.evaluated(section);
    return { probabilities, entropy };
  };
  const decide = (out: SampleOutputs): SampleExit => {
    const r = decider.decide(out);
    events.push(...r.events);
    return r;
  };
  /** Devices work in parallel: a stage costs its slowest reply, split into compute and waiting. */
  const stageTiming = (answers: (Answer<unknown> | Failure | null)[]): void => {
    let slowest = 0;
    let compute = 0;
    for (const a of answers) {
      if (a === null || isFailure(a) || a.elapsedMs <= slowest) continue;
      slowest = a.elapsedMs;
      compute = Math.min(a.latencyMs, a.elapsedMs);
    }
    timing.deviceModelMs += compute;
    timing.transportMs += Math.max(0, slowest - compute);
  };

  // 1. Every device computes its exit scores from its own view and sends them to the local aggregator.
  const scoreAnswers = await Promise.all(
    topology.devices.map((d) =>
      ask(
        requester,
        d.deviceId,
        { stage: 'scores', sessionId, sampleIndex, dataset: plan.dataset, sampleId: sample.sampleId },
        deadlineMs,
        (reply, elapsedMs) => {
          const r = reply as { scores: unknown; latencyMs: unknown; sampleIndex?: unknown; capturedAt?: number };
          checkEcho(r.sampleIndex, sampleIndex);
          return { value: { scores: scoresOf(r.scores, sizes), capturedAt: r.capturedAt }, latencyMs: latencyOf(r.latencyMs, elapsedMs) };
        },
      ),
    ),
  );
  const deviceScores = new Map<number, Float32Array>();
  topology.devices.forEach((d, i) => {
    const a = scoreAnswers[i];
    if (isFailure(a)) return miss(d.deviceId, d.view, 'scores', a);
    deviceScores.set(d.view, a.value.scores);
    evaluated('device', d.deviceId, Array.from(softmax(a.value.scores)), a.latencyMs, false, d.view, a.value.capturedAt);
  });
  stageTiming(scoreAnswers);

  // 2. The local aggregator and the local exit.
  let t = performance.now();
  const localProbabilities = deviceScores.size > 0 ? sections.local(deviceScores) : null;
  const localMs = performance.now() - t;
  timing.serverModelMs += localMs;
  const out: SampleOutputs = {
    scores: scoreAnswers.map((a) => !isFailure(a)),
    local: localProbabilities ? evaluated('local', 'local', localProbabilities, localMs, false) : null,
  };
  let r = decide(out);

  // 3. Features of every device that answered travel on (shadow when the live exit already answered).
  const deviceFeatures = new Map<number, Uint8Array>();
  if (r.next === 'features') {
    const shadow = r.answer !== null;
    const featureAnswers = await Promise.all(
      topology.devices.map((d, i) =>
        out.scores[i]
          ? ask(requester, d.deviceId, { stage: 'features', sessionId, sampleIndex }, deadlineMs, (reply, elapsedMs) => {
              const f = reply as { features: unknown; latencyMs: unknown; sampleIndex?: unknown };
              checkEcho(f.sampleIndex, sampleIndex);
              return { value: featuresOf(f.features, sizes.featuresBytes), latencyMs: latencyOf(f.latencyMs, elapsedMs) };
            })
          : Promise.resolve(null),
      ),
    );
    topology.devices.forEach((d, i) => {
      const a = featureAnswers[i];
      if (a === null) return;
      if (isFailure(a)) return miss(d.deviceId, d.view, 'features', a);
      deviceFeatures.set(d.view, a.value);
    });
    if (!shadow) stageTiming(featureAnswers);
    out.features = featureAnswers.map((a) => a !== null && !isFailure(a));
    r = decide(out);
  }

  // 4. Optional edge tier: each edge fuses its devices' features and passes its own features to the cloud.
  let cloudInputs: Map<number | string, Uint8Array> = deviceFeatures;
  if (r.next === 'edge') {
    const shadow = r.answer !== null;
    cloudInputs = new Map();
    const outputs: (ExitOutput | null)[] = [];
    for (const e of topology.edges ?? []) {
      const views = sections.edgeViews(e.name);
      const mine = new Map([...deviceFeatures].filter(([v]) => views.includes(v)));
      let result: { scores: Float32Array; features: Uint8Array; latencyMs: number } | null = null;
      if (e.deviceId === null) {
        t = performance.now();
        const computed = sections.edge(e.name, mine);
        const ms = performance.now() - t;
        if (!shadow) timing.serverModelMs += ms;
        result = { ...computed, latencyMs: ms };
      } else {
        const a = await ask(
          requester,
          e.deviceId,
          { stage: 'edge', sessionId, sampleIndex, features: views.map((v) => mine.get(v) ?? null) },
          deadlineMs,
          (reply, elapsedMs) => {
            const x = reply as { scores: unknown; features: unknown; latencyMs: unknown; sampleIndex?: unknown };
            checkEcho(x.sampleIndex, sampleIndex);
            return {
              value: { scores: scoresOf(x.scores, sizes), features: featuresOf(x.features, sizes.edgeFeaturesBytes) },
              latencyMs: latencyOf(x.latencyMs, elapsedMs),
            };
          },
        );
        if (isFailure(a)) miss(e.deviceId, -1, 'features', a);
        else {
          result = { ...a.value, latencyMs: a.latencyMs };
          if (!shadow) {
            timing.deviceModelMs += a.latencyMs;
            timing.transportMs += Math.max(0, a.elapsedMs - a.latencyMs);
          }
        }
      }
      outputs.push(result ? evaluated('edge', e.name, Array.from(softmax(result.scores)), result.latencyMs, shadow) : null);
      if (result) cloudInputs.set(e.name, result.features);
    }
    out.edges = outputs;
    r = decide(out);
  }

  // 5. The cloud, the last exit, answers from what reached it.
  if (r.next === 'cloud') {
    const shadow = r.answer !== null;
    const cloud = await sections.cloud(cloudInputs);
    if (!shadow) timing.serverModelMs += cloud.latencyMs;
    out.cloud = evaluated('cloud', 'cloud', cloud.probabilities, cloud.latencyMs, shadow);
    r = decide(out);
  }

  if (r.next !== null) throw new Error(`sample ${sampleIndex}: the exit core left it undecided (next: ${r.next})`);
  // No answer only when nothing reached the exit that had to answer; anything else is a bug of the core, not a sample
  // to log as unanswered.
  if (!r.answer && out.local !== null && featuresReachedOn(out.scores, out.features)) {
    throw new Error(`sample ${sampleIndex}: the exit core gave no answer, though devices answered and features went on`);
  }
  for (const e of events) {
    const bad = nonFinitePath(e.data);
    // Replies are checked above, so this is a server section gone wrong: fail loudly rather than log it.
    if (bad) throw new Error(`sample ${sampleIndex}: ${e.type} would log a non-finite number at ${bad}`);
  }
  return { events, exit: r.answer?.tier ?? null, prediction: r.answer?.prediction ?? null, missed: missDetails.length, missDetails, timing };
}
