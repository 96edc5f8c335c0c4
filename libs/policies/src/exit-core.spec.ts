import { answersSample, type MessageSizes, type PolicySpec, type SessionMode, type SessionTopology } from '@ddnn/contracts';
import { CLOUD, decideSample, EDGE, exitCode, LOCAL, loggedEntropy, NEEDS_CLOUD, NEEDS_EDGE, SampleDecider, type ExitOutput, type SampleOutputs, type Transfer } from './exit-core';
import { exitRuleOf } from './statistics';

const sizes: MessageSizes = { scoresBytes: 12, featuresBytes: 128, rawBytes: 3072, edgeFeaturesBytes: 64 };
const twoTier: SessionTopology = { devices: [0, 1, 2].map((v) => ({ deviceId: `d${v}`, view: v })) };
const threeTier: SessionTopology = {
  devices: [0, 1, 2].map((v) => ({ deviceId: `d${v}`, view: v, edge: v < 2 ? 'a' : 'b' })),
  edges: [
    { name: 'a', deviceId: null },
    { name: 'b', deviceId: 'edge-b' },
  ],
};
const out = (probabilities: number[]): ExitOutput => ({ probabilities, entropy: loggedEntropy(probabilities) });
const sure = out([0.98, 0.01, 0.01]); // eta ~0.1
const unsure = out([0.4, 0.35, 0.25]); // eta ~0.98
const sureB = out([0.01, 0.98, 0.01]);
const entropy = (local: number, edge?: number): PolicySpec => ({ kind: 'entropy', thresholds: { local, ...(edge !== undefined ? { edge } : {}) } });
const plan = (topology: SessionTopology, policy: PolicySpec, mode: SessionMode = 'production') => ({ topology, messageSizes: sizes, policy, mode });
const links = (r: ReturnType<typeof decideSample>) => r.transfers.map((t) => `${t.from}>${t.to}:${t.bytes}${t.shadow ? ' shadow' : ''}`);

describe('exitCode: the exit rule', () => {
  const rule = exitRuleOf(entropy(0.5, 0.5))!;
  it.each([
    ['local below its threshold', 0.2, NaN, true, false, false, LOCAL],
    ['no local output (NaN) never exits locally', NaN, 0.1, true, true, true, EDGE],
    ['needs the edge stage before deciding', 0.9, NaN, true, false, false, NEEDS_EDGE],
    ['edge below its threshold', 0.9, 0.2, true, true, false, EDGE],
    ['edge stage ran with no edge output: the cloud', 0.9, NaN, true, true, true, CLOUD],
    ['edge unsure, cloud not run yet', 0.9, 0.9, true, true, false, NEEDS_CLOUD],
    ['two tiers: the cloud', 0.9, NaN, false, false, true, CLOUD],
    ['two tiers: needs the cloud', 0.9, NaN, false, false, false, NEEDS_CLOUD],
  ])('%s', (_name, uL, uE, edgeTier, edgeRan, cloudRan, expected) => {
    expect(exitCode(rule, uL, uE, edgeTier, edgeRan, cloudRan)).toBe(expected);
  });
});

describe('decideSample', () => {
  const all: SampleOutputs = { scores: [true, true, true], local: sure, features: [true, true, true], edges: [sure, sure], cloud: sureB };

  it('two tiers, local exit: scores only, and nothing more is needed in production', () => {
    const r = decideSample(plan(twoTier, entropy(0.5)), { scores: [true, true, true], local: sure });
    expect(r.answer).toEqual({ tier: 'local', prediction: 0 });
    expect(r.next).toBeNull();
    expect(r.checks).toEqual([{ tier: 'local', eta: sure.entropy, threshold: 0.5, exited: true, prediction: 0, shadow: false }]);
    expect(links(r)).toEqual(['d0>local:12', 'd1>local:12', 'd2>local:12']);
  });

  it('two tiers, unsure locally: asks for features, then the cloud, then the cloud answers', () => {
    const p = plan(twoTier, entropy(0.5));
    const o: SampleOutputs = { scores: [true, false, true], local: unsure };
    expect(decideSample(p, o).next).toBe('features');
    o.features = [true, false, false];
    expect(decideSample(p, o)).toMatchObject({ answer: null, next: 'cloud' });
    o.cloud = sureB;
    const r = decideSample(p, o);
    expect(r).toMatchObject({ answer: { tier: 'cloud', prediction: 1 }, next: null });
    // d1 missed its scores (no messages); d2 answered scores but missed features.
    expect(links(r)).toEqual(['d0>local:12', 'd2>local:12', 'd0>cloud:128']);
    expect(r.checks.map((c) => [c.tier, c.exited, c.threshold])).toEqual([
      ['local', false, 0.5],
      ['cloud', true, null],
    ]);
  });

  it('no device answered: a local check that cannot exit (eta 1, prediction -1), and no answer at all', () => {
    for (const mode of ['production', 'research'] as const) {
      // Nothing asked of later stages: a cloud fed nothing would answer from its biases alone, whatever the sample.
      const r = decideSample(plan(twoTier, entropy(1.1), mode), { scores: [false, false, false], local: null });
      expect(r.checks).toEqual([{ tier: 'local', eta: 1, threshold: 1.1, exited: false, prediction: -1, shadow: false }]);
      expect(r.answer).toBeNull();
      expect(r.next).toBeNull();
      expect(r.transfers).toEqual([]);
    }
    const d = new SampleDecider(plan(threeTier, entropy(0.5, 0.5)), { sessionId: 's', sampleIndex: 3, label: 2, policy: 'entropy T=0.5' });
    expect(d.decide({ scores: [false, false, false], local: null }).events.map((e) => [e.type, e.type === 'SampleUnanswered' ? e.data : null])).toEqual([
      ['ExitDecided', null],
      ['SampleUnanswered', { sessionId: 's', sampleIndex: 3, label: 2 }],
    ]);
  });

  it('three tiers, edge exit: features to the edges, no edge features to the cloud', () => {
    const p = plan(threeTier, entropy(0.05, 0.5));
    const o: SampleOutputs = { scores: [true, true, true], local: unsure, features: [true, true, true] };
    expect(decideSample(p, o).next).toBe('edge');
    o.edges = [sureB, null];
    const r = decideSample(p, o);
    expect(r).toMatchObject({ answer: { tier: 'edge', prediction: 1 }, next: null });
    expect(links(r)).toEqual(['d0>local:12', 'd1>local:12', 'd2>local:12', 'd0>a:128', 'd1>a:128', 'd2>b:128']);
  });

  it('three tiers: several edges are averaged; every edge that answered sends to the cloud when the edge is unsure', () => {
    const p = plan(threeTier, entropy(0.05, 0.3));
    const r = decideSample(p, { ...all, local: unsure, edges: [sure, sureB] });
    const edge = r.checks.find((c) => c.tier === 'edge')!;
    // The mean of a sure-0 and a sure-1 edge is unsure.
    expect(edge.exited).toBe(false);
    expect(edge.eta).toBeCloseTo(loggedEntropy([0.495, 0.495, 0.01]), 12);
    expect(r.answer).toEqual({ tier: 'cloud', prediction: 1 });
    expect(links(r).slice(-2)).toEqual(['a>cloud:64', 'b>cloud:64']);
  });

  it('three tiers with every edge node failed: no edge check, the cloud answers', () => {
    const r = decideSample(plan(threeTier, entropy(0.05, 0.9)), { ...all, local: unsure, edges: [null, null] });
    expect(r.checks.map((c) => c.tier)).toEqual(['local', 'cloud']);
    expect(links(r).filter((l) => l.startsWith('a>') || l.startsWith('b>'))).toEqual([]);
  });

  it('no edge threshold means no edge exit and no edge check', () => {
    const r = decideSample(plan(threeTier, entropy(0.05)), { ...all, local: unsure });
    expect(r.checks.map((c) => c.tier)).toEqual(['local', 'cloud']);
    expect(r.answer?.tier).toBe('cloud');
  });

  it('research mode: runs every stage after a local exit, marking what the answer did not need as shadow', () => {
    const p = plan(threeTier, entropy(0.5, 0.5), 'research');
    expect(decideSample(p, { scores: [true, true, true], local: sure })).toMatchObject({ answer: { tier: 'local' }, next: 'features' });
    const r = decideSample(p, all);
    expect(r.next).toBeNull();
    expect(r.answer).toEqual({ tier: 'local', prediction: 0 });
    expect(r.checks.map((c) => [c.tier, c.exited, c.shadow])).toEqual([
      ['local', true, false],
      ['edge', true, true],
      ['cloud', true, true],
    ]);
    expect(links(r)).toEqual([
      'd0>local:12',
      'd1>local:12',
      'd2>local:12',
      'd0>a:128 shadow',
      'd1>a:128 shadow',
      'd2>b:128 shadow',
      'a>cloud:64 shadow',
      'b>cloud:64 shadow',
    ]);
  });

  it('research mode, edge exit: device features are live, edge features to the cloud are shadow', () => {
    const r = decideSample(plan(threeTier, entropy(0.05, 0.5), 'research'), { ...all, local: unsure });
    expect(r.answer?.tier).toBe('edge');
    expect(r.transfers.filter((t) => t.kind === 'features').map((t) => [t.from, t.shadow])).toEqual([
      ['d0', false],
      ['d1', false],
      ['d2', false],
      ['a', true],
      ['b', true],
    ]);
  });

  it('every combination of outputs and thresholds yields exactly one live answer, the one answersSample finds (none when no device answered)', () => {
    const outputs = [null, sure, unsure, sureB];
    let combos = 0;
    for (const mode of ['production', 'research'] as const)
      for (const local of outputs)
        for (const a of outputs)
          for (const b of outputs)
            for (const [tl, te] of [[0.5, 0.5], [0, 0], [1.1, 1.1], [0.5, undefined]] as const) {
              const p = plan(threeTier, entropy(tl, te), mode);
              const o: SampleOutputs = { scores: [local !== null, local !== null, false], local, features: [true, true, false], edges: [a, b], cloud: unsure };
              const r = decideSample(p, o);
              const live = r.checks.filter(answersSample);
              combos++;
              if (local === null) {
                expect([live, r.answer, r.next]).toEqual([[], null, null]);
                continue;
              }
              expect(live).toHaveLength(1);
              expect(r.answer).toEqual({ tier: live[0].tier, prediction: live[0].prediction });
              expect(r.next).toBeNull();
              // Live bytes follow the byte rule for the answering exit.
              const counted = r.transfers.filter((t) => !t.shadow);
              expect(counted.some((t) => t.from === 'a' || t.from === 'b')).toBe(r.answer!.tier === 'cloud' && (a !== null || b !== null));
              expect(counted.some((t) => t.kind === 'features' && t.from.startsWith('d'))).toBe(r.answer!.tier !== 'local');
            }
    expect(combos).toBe(2 * 4 * 4 * 4 * 4);
  });

  it('SampleDecider hands out each check once, in causal order, then the sample\'s messages in one event', () => {
    const d = new SampleDecider(plan(twoTier, entropy(0.5)), { sessionId: 's', sampleIndex: 7, label: 1, policy: 'entropy T=0.5' });
    const o: SampleOutputs = { scores: [true, true, false], local: unsure };
    const first = d.decide(o).events;
    expect(first.map((e) => e.type)).toEqual(['ExitDecided']);
    o.features = [true, true, false];
    o.cloud = sureB;
    const second = d.decide(o).events;
    expect(second.map((e) => e.type)).toEqual(['ExitDecided', 'MessagesTransferred']);
    expect(second[0].data).toEqual({ sessionId: 's', sampleIndex: 7, tier: 'cloud', eta: sureB.entropy, threshold: null, exited: true, prediction: 1, shadow: false, policy: 'entropy T=0.5', label: 1 });
    const messages = (second[1].data as { messages: Transfer[] }).messages.map((m) => `${m.from}>${m.to}:${m.kind}`);
    expect(second[1].data).toMatchObject({ sessionId: 's', sampleIndex: 7 });
    expect(messages).toEqual(['d0>local:scores', 'd1>local:scores', 'd0>cloud:features', 'd1>cloud:features']);
    // Asked again once decided, it hands out nothing twice.
    expect(d.decide(o).events).toEqual([]);
  });

  it('applies each policy kind at the local and the edge exit; the cloud always answers', () => {
    const sureish = { probabilities: [0.9, 0.05, 0.05], entropy: 0.35 };
    const torn = { probabilities: [0.4, 0.35, 0.25], entropy: 0.98 };
    const at = (policy: PolicySpec, local: ExitOutput, edge: ExitOutput = torn) =>
      decideSample(plan(threeTier, policy), { ...all, local, edges: [edge, null], cloud: torn }).answer?.tier;
    expect(at(entropy(0.5, 0.99), sureish)).toBe('local');
    expect(at(entropy(0.5, 0.99), torn)).toBe('edge');
    expect(at(entropy(0.5), torn, sureish)).toBe('cloud');
    expect(at({ kind: 'confidence', thresholds: { local: 0.5 } }, sureish)).toBe('local');
    expect(at({ kind: 'confidence', thresholds: { local: 0.5, edge: 0.85 } }, torn, sureish)).toBe('edge');
    expect(at({ kind: 'confidence', thresholds: { local: 0.5 } }, torn)).toBe('cloud');
    expect(at({ kind: 'margin', thresholds: { local: 0.04 } }, torn)).toBe('local');
    expect(at({ kind: 'margin', thresholds: { local: 0.06 } }, torn)).toBe('cloud');
    expect(at({ kind: 'always-local' }, torn)).toBe('local');
    expect(at({ kind: 'always-cloud' }, sureish, sureish)).toBe('cloud');
    expect(at({ kind: 'budget', statistic: 'entropy', fitted: { thresholds: { local: 0.5 } } } as PolicySpec, sureish)).toBe('local');
  });

  it('refuses raw offload and outputs that do not fit the topology', () => {
    expect(() => decideSample(plan(twoTier, { kind: 'raw-offload' }), { scores: [true, true, true], local: sure })).toThrow(/raw offload/);
    expect(() => decideSample(plan(twoTier, entropy(0.5)), { scores: [true], local: sure })).toThrow(/1 entries for 3 devices/);
  });
});
