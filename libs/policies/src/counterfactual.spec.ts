import { sampleSections, type EntropyPolicy, type LinkTraffic, type PolicyEvaluation, type PolicySpec, type SessionStarted, type StoredEvent } from '@ddnn/contracts';
import { evaluatePolicy, runRule, UNANSWERED, UNKNOWN } from './evaluate';
import { decideSample, type ExitOutput, type SampleOutputs } from './exit-core';
import { liveOutcomeFromEvents } from './live';
import { prepare } from './prepared';
import { sessionSamplesFromEvents, type SessionSampleTable } from './session-table';
import { exitRuleOf } from './statistics';
import { syntheticSessionEvents } from './synthetic';

// Synthetic sessions are decided by the exit core, stage by stage, exactly as the live runner decides
// (apps/api sample-runner): so "counterfactual == live" below is checked against the runner's own rule.

/**
 * A straightforward per-sample replay of an entropy policy over the raw events, written without the
 * library's tables: the reference the vectorized evaluation must equal exactly.
 */
function simulateEntropyPolicy(events: StoredEvent[], T: { local: number; edge?: number }) {
  const start = events.find((e) => e.type === 'SessionStarted')!.data as StoredEvent<'SessionStarted'>['data'];
  const sizes = start.messageSizes;
  const edges = (start.topology.edges ?? []).map((e) => e.name);
  const bySample = new Map<number, StoredEvent[]>();
  for (const e of events) {
    const s = (e.data as { sampleIndex?: number }).sampleIndex;
    if (s === undefined) continue;
    if (!bySample.has(s)) bySample.set(s, []);
    bySample.get(s)!.push(e);
  }
  const argmax = (p: number[]) => p.indexOf(Math.max(...p));
  const exited = { local: 0, edge: 0, cloud: 0 };
  const correct = { local: 0, edge: 0, cloud: 0 };
  const labelled = { local: 0, edge: 0, cloud: 0 };
  const link = new Map<string, number>();
  const send = (from: string, to: string, kind: string, bytes: number) =>
    link.set(`${from}>${to}>${kind}`, (link.get(`${from}>${to}>${kind}`) ?? 0) + bytes);
  let samples = 0;
  for (const [, evs] of [...bySample].sort((a, b) => a[0] - b[0])) {
    const label = (evs.find((e) => e.type === 'SampleStarted')!.data as { label: number | null }).label;
    const sections = evs.flatMap((e) => sampleSections(e)?.sections ?? []);
    const missed = evs.filter((e) => e.type === 'DeviceMissed').map((e) => e.data as StoredEvent<'DeviceMissed'>['data']);
    const answering = start.topology.devices.filter(
      (d) => sections.some((x) => x.tier === 'device' && x.node === d.deviceId) && !missed.some((m) => m.deviceId === d.deviceId && m.stage === 'scores'),
    );
    // No device answered: the sample has no answer under any policy (SampleUnanswered), and is in no evaluation.
    if (answering.length === 0) continue;
    const local = sections.find((x) => x.tier === 'local');
    const exitsLocally = local !== undefined && local.entropy < T.local;
    for (const d of answering) send(d.deviceId, 'local', 'scores', sizes.scoresBytes);
    // Past the local exit with no device's features delivered: nothing goes on, and the sample has no answer (its
    // scores were sent all the same).
    if (!exitsLocally && answering.every((d) => missed.some((m) => m.deviceId === d.deviceId && m.stage === 'features'))) continue;
    samples++;
    let tier: 'local' | 'edge' | 'cloud' = 'cloud';
    let answer = local?.probabilities ?? [];
    if (exitsLocally) {
      tier = 'local';
    } else {
      for (const d of answering) {
        if (!missed.some((m) => m.deviceId === d.deviceId && m.stage === 'features')) send(d.deviceId, d.edge ?? 'cloud', 'features', sizes.featuresBytes);
      }
      let goesOn = true;
      if (edges.length) {
        const outs = sections.filter((x) => x.tier === 'edge');
        const mean = outs.length ? outs[0].probabilities.map((_, c) => outs.reduce((a, o) => a + o.probabilities[c], 0) / outs.length) : [];
        const h = -mean.reduce((a, p) => a + p * Math.log(p + 1e-9), 0) / Math.log(mean.length);
        const eta = outs.length === 1 ? outs[0].entropy : Math.min(1, Math.max(0, h));
        if (outs.length > 0 && T.edge !== undefined && eta < T.edge) {
          tier = 'edge';
          answer = mean;
          goesOn = false;
        } else for (const o of outs) send(o.node, 'cloud', 'features', sizes.edgeFeaturesBytes!);
      }
      if (goesOn) answer = sections.find((x) => x.tier === 'cloud')!.probabilities;
    }
    exited[tier]++;
    if (label !== null) {
      labelled[tier]++;
      if (argmax(answer) === label) correct[tier]++;
    }
  }
  const total = Object.values(labelled).reduce((a, b) => a + b, 0);
  const right = Object.values(correct).reduce((a, b) => a + b, 0);
  return { samples, exited, correct, labelled, accuracy: right / total, link };
}

function linkMap(links: LinkTraffic[], samples: number): Map<string, number> {
  return new Map(links.filter((l) => l.messages > 0).map((l) => [`${l.from}>${l.to}>${l.kind}`, Math.round(l.bytesPerSample * samples)]));
}

function expectEqualsSimulation(events: StoredEvent[], policy: EntropyPolicy) {
  const result = evaluatePolicy(sessionSamplesFromEvents(events), policy) as PolicyEvaluation;
  const sim = simulateEntropyPolicy(events, policy.thresholds);
  expect(result.evaluable).toBe(true);
  expect(result.samples).toBe(sim.samples);
  expect(result.accuracy).toBe(sim.accuracy);
  for (const exit of result.exits) {
    expect(exit.exited).toBe(sim.exited[exit.tier]);
    expect(exit.accuracy).toBe(sim.labelled[exit.tier] ? sim.correct[exit.tier] / sim.labelled[exit.tier] : null);
  }
  expect(linkMap(result.links, result.samples)).toEqual(sim.link);
  const simBytes = [...sim.link.values()].reduce((a, b) => a + b, 0);
  expect(result.bytesPerSample).toBe(simBytes / sim.samples);
  return result;
}

describe('counterfactual evaluation equals a per-sample replay', () => {
  const research = syntheticSessionEvents({ samples: 400, seed: 7, thresholds: { local: 0.8 }, missScores: 0.05, missFeatures: 0.05, unlabelled: 0.1 });

  it.each([0, 0.3, 0.5, 0.8, 0.9, 1, 1.01])('entropy T=%p on a research session', (T) => {
    const r = expectEqualsSimulation(research, { kind: 'entropy', thresholds: { local: T } });
    expect(r.exits.map((e) => e.tier)).toEqual(['local', 'cloud']);
  });

  it('with devices and edge nodes failing: samples without a local output, edges that all failed', () => {
    const events = syntheticSessionEvents({ samples: 400, seed: 13, devices: 2, edges: ['a', 'b'], missScores: 0.45, missFeatures: 0.1, missEdges: 0.4, thresholds: { local: 0.8, edge: 0.6 } });
    const noLocal = events.filter((e) => e.type === 'ExitDecided' && e.data.tier === 'local' && e.data.prediction === -1).length;
    expect(noLocal).toBeGreaterThan(20);
    // Unanswered: every sample no device answered, and those whose devices all missed the features stage past an unsure local exit.
    expect(events.filter((e) => e.type === 'SampleUnanswered').length).toBeGreaterThan(noLocal);
    const table = sessionSamplesFromEvents(events);
    const noEdge = table.edgeReached.filter((r, s) => r === 1 && table.edge?.computed[s] === 0).length;
    expect(noEdge).toBeGreaterThan(5);
    for (const thresholds of [{ local: 0.5, edge: 0.5 }, { local: 0.9, edge: 0.8 }, { local: 1.1 }]) {
      const r = expectEqualsSimulation(events, { kind: 'entropy', thresholds });
      // Every finished sample is answered or unanswered under the policy; a stricter local exit leaves more unanswered.
      expect(r.samples + r.unanswered).toBe(table.n);
      expect(r.unanswered).toBeGreaterThan(0);
    }
    const unansweredAt = (local: number) => (evaluatePolicy(table, { kind: 'entropy', thresholds: { local } }) as PolicyEvaluation).unanswered;
    expect(unansweredAt(0)).toBeGreaterThan(unansweredAt(1.1));
  });

  it('takes real decisions: the local exit rate moves with T', () => {
    const at = (T: number) => (evaluatePolicy(sessionSamplesFromEvents(research), { kind: 'entropy', thresholds: { local: T } }) as PolicyEvaluation).localExitRate;
    expect(at(0)).toBe(0);
    expect(at(0.9)).toBeGreaterThan(0.1);
    expect(at(0.9)).toBeLessThan(1);
  });

  it.each<[{ local: number; edge?: number }, string[]]>([
    [{ local: 0.6, edge: 0.7 }, ['e0']],
    [{ local: 0.7, edge: 0.9 }, ['e0', 'e1']],
    [{ local: 0.7 }, ['e0', 'e1']],
  ])('entropy %p with edge nodes %p', (thresholds, edges) => {
    const events = syntheticSessionEvents({ samples: 300, seed: 3, edges, thresholds: { local: 0.9, edge: 0.5 }, missScores: 0.05, missFeatures: 0.1 });
    const r = expectEqualsSimulation(events, { kind: 'entropy', thresholds });
    expect(r.exits.map((e) => e.tier)).toEqual(['local', 'edge', 'cloud']);
    if (thresholds.edge !== undefined) expect(r.exits[1].exited).toBeGreaterThan(0);
    else expect(r.exits[1].exited).toBe(0);
  });
});

describe('counterfactual from a research session equals the live session at another threshold', () => {
  const compare = (liveEvents: StoredEvent[], researchEvents: StoredEvent[], thresholds: { local: number; edge?: number }) => {
    const live = liveOutcomeFromEvents(liveEvents);
    const cf = evaluatePolicy(sessionSamplesFromEvents(researchEvents), { kind: 'entropy', thresholds }) as PolicyEvaluation;
    expect(cf.samples).toBe(live.samples);
    expect(cf.accuracy).toBe(live.accuracy);
    expect(cf.exits).toEqual(live.exits);
    expect(cf.bytesPerSample).toBe(live.bytesPerSample);
    expect(cf.bytesByKind).toEqual(live.bytesByKind);
    const key = (l: LinkTraffic) => `${l.from}>${l.to}>${l.kind}`;
    const sorted = (ls: LinkTraffic[]) => ls.filter((l) => l.messages > 0).sort((a, b) => key(a).localeCompare(key(b)));
    expect(sorted(cf.links)).toEqual(sorted(live.links));
  };

  it('a live session logged with a BytesTransferred per message (before MessagesTransferred) reads the same', () => {
    const opts = { samples: 300, seed: 5, edges: ['e0'], missScores: 0.05, missFeatures: 0.05, thresholds: { local: 0.6, edge: 0.7 } };
    const today = syntheticSessionEvents({ ...opts, mode: 'production' });
    const older = syntheticSessionEvents({ ...opts, mode: 'production', perMessageTraffic: true });
    expect(older.filter((e) => e.type === 'BytesTransferred').length).toBeGreaterThan(today.filter((e) => e.type === 'MessagesTransferred').length);
    expect(liveOutcomeFromEvents(older)).toEqual(liveOutcomeFromEvents(today));
    compare(older, syntheticSessionEvents({ ...opts, mode: 'research', thresholds: { local: 0.8, edge: 0.8 } }), opts.thresholds);
  });

  it('sessions logged with a SectionEvaluated per section (before SectionsEvaluated) read the same, live and recorded', () => {
    const opts = { samples: 300, seed: 6, edges: ['e0'], missScores: 0.05, missFeatures: 0.05, thresholds: { local: 0.6, edge: 0.7 } };
    const today = syntheticSessionEvents({ ...opts, mode: 'production' });
    const older = syntheticSessionEvents({ ...opts, mode: 'production', perSectionEvents: true });
    expect(older.filter((e) => e.type === 'SectionEvaluated').length).toBeGreaterThan(2 * today.filter((e) => e.type === 'SectionsEvaluated').length);
    expect(today.some((e) => e.type === 'SectionEvaluated')).toBe(false);
    expect(liveOutcomeFromEvents(older)).toEqual(liveOutcomeFromEvents(today));
    const research = { ...opts, mode: 'research' as const, thresholds: { local: 0.8, edge: 0.8 } };
    compare(older, syntheticSessionEvents({ ...research, perSectionEvents: true, perMessageTraffic: true }), opts.thresholds);
    const evaluated = (events: StoredEvent[]) => evaluatePolicy(sessionSamplesFromEvents(events), { kind: 'entropy', thresholds: opts.thresholds });
    expect(evaluated(syntheticSessionEvents({ ...research, perSectionEvents: true }))).toEqual(evaluated(syntheticSessionEvents(research)));
  });

  it('live production at T=0.5 vs research recorded at T=0.8', () => {
    const opts = { samples: 500, seed: 11, missScores: 0.04, missFeatures: 0.04 };
    const live = syntheticSessionEvents({ ...opts, mode: 'production', thresholds: { local: 0.5 } });
    const research = syntheticSessionEvents({ ...opts, mode: 'research', thresholds: { local: 0.8 } });
    compare(live, research, { local: 0.5 });
  });

  it('live production with failing devices and edge nodes vs research recorded at other thresholds', () => {
    const opts = { samples: 400, seed: 17, devices: 3, edges: ['a', 'b'], missScores: 0.35, missFeatures: 0.1, missEdges: 0.3 };
    const live = syntheticSessionEvents({ ...opts, mode: 'production', thresholds: { local: 0.7, edge: 0.75 } });
    const research = syntheticSessionEvents({ ...opts, thresholds: { local: 0.95, edge: 0.2 } });
    compare(live, research, { local: 0.7, edge: 0.75 });
  });

  it('live research at T=0.9/0.6 with two edge nodes vs research recorded at T=0.5/0.3', () => {
    const opts = { samples: 300, seed: 5, edges: ['north', 'south'], missFeatures: 0.05 };
    const live = syntheticSessionEvents({ ...opts, thresholds: { local: 0.9, edge: 0.6 } });
    const research = syntheticSessionEvents({ ...opts, thresholds: { local: 0.5, edge: 0.3 } });
    compare(live, research, { local: 0.9, edge: 0.6 });
  });
});

/** One sample of a table as the outputs the live runner would hand the exit core (undefined: stage never ran). */
function outputsOf(t: SessionSampleTable, r: number): SampleOutputs {
  const c = t.classes.length;
  const D = t.devices.length;
  const E = t.edges.length;
  const row = (p: Float64Array, i: number): number[] => Array.from(p.subarray(i * c, i * c + c));
  const exit = (computed: boolean, probabilities: number[], entropy: number): ExitOutput | null => (computed ? { probabilities, entropy } : null);
  return {
    scores: Array.from(t.device.answered.subarray(r * D, r * D + D), Boolean),
    local: exit(t.local.computed[r] === 1, row(t.local.probabilities, r), t.local.entropy[r]),
    features: Array.from(t.device.featuresSent.subarray(r * D, r * D + D), Boolean),
    ...(E > 0 && t.edgeReached[r]
      ? { edges: t.edges.map((_, i) => exit(t.edgeNodes.computed[r * E + i] === 1, row(t.edgeNodes.probabilities, r * E + i), t.edgeNodes.entropy[r * E + i])) }
      : {}),
    ...(t.cloud.computed[r] ? { cloud: { probabilities: row(t.cloud.probabilities, r), entropy: t.cloud.entropy[r] } } : {}),
  };
}

describe("the counterfactual's per-sample exit is the exit core's", () => {
  const sessions: [string, StoredEvent[], boolean][] = [
    ['research, two tiers, misses', syntheticSessionEvents({ samples: 300, seed: 21, missScores: 0.3, missFeatures: 0.1 }), true],
    ['research, two edge nodes failing', syntheticSessionEvents({ samples: 300, seed: 22, devices: 3, edges: ['a', 'b'], missScores: 0.3, missEdges: 0.3, thresholds: { local: 0.7, edge: 0.6 } }), false],
    ['production, one edge', syntheticSessionEvents({ samples: 300, seed: 23, edges: ['e'], mode: 'production', thresholds: { local: 0.8, edge: 0.7 } }), false],
  ];
  const policies: PolicySpec[] = [
    { kind: 'entropy', thresholds: { local: 0.6, edge: 0.5 } },
    { kind: 'entropy', thresholds: { local: 0.9 } },
    { kind: 'confidence', thresholds: { local: 0.7, edge: 0.6 } },
    { kind: 'margin', thresholds: { local: 0.4, edge: 0.2 } },
    { kind: 'always-local' },
    { kind: 'always-cloud' },
  ];
  it.each(sessions)('%s', (_name, events, featureMisses) => {
    const table = sessionSamplesFromEvents(events);
    const tierCodes: Record<string, number> = { local: 0, edge: 1, cloud: 2 };
    let unknown = 0;
    let unanswered = 0;
    for (const policy of policies) {
      const tiers = new Uint8Array(table.n);
      runRule(prepare(table), exitRuleOf(policy)!, tiers, null);
      for (let r = 0; r < table.n; r++) {
        const core = decideSample({ topology: (events[0].data as SessionStarted).topology, messageSizes: table.messageSizes, policy, mode: 'production' }, outputsOf(table, r));
        expect([r, tiers[r]]).toEqual([r, core.answer ? tierCodes[core.answer.tier] : core.next === null ? UNANSWERED : UNKNOWN]);
        if (!core.answer && core.next !== null) unknown++;
        if (!core.answer && core.next === null) unanswered++;
      }
    }
    // The production session cannot answer every policy: those samples need a stage it never ran.
    if (table.mode === 'production') expect(unknown).toBeGreaterThan(0);
    // Sessions with feature misses hold samples whose features all failed: unanswered past the local exit.
    if (table.mode === 'research' && featureMisses) expect(unanswered).toBeGreaterThan(0);
  });
});
