import { answersSample, sampleTraffic, type ExitTier, type LinkTraffic, type PayloadKind, type PolicyEvaluation, type StoredEvent } from '@ddnn/contracts';

/**
 * What a session actually did, read from its non-shadow exit checks and link messages: a policy evaluation's fields
 * that a live run has too (its links: only those that carried at least one message).
 */
export type LiveOutcome = Pick<PolicyEvaluation, 'sessionId' | 'samples' | 'accuracy' | 'exits' | 'localExitRate' | 'bytesPerSample' | 'bytesByKind' | 'links'>;

/**
 * Summarizes the live outcome of a session in the shape of evaluatePolicy's result, over the samples
 * the session finished, so that a counterfactual can be compared with a live run field by field.
 */
export function liveOutcomeFromEvents(events: StoredEvent[]): LiveOutcome {
  const start = events.find((e): e is StoredEvent<'SessionStarted'> => e.type === 'SessionStarted');
  if (!start) throw new Error('no SessionStarted event: cannot summarize a session without it');
  const sessionId = start.data.sessionId;
  const tiers: ExitTier[] = start.data.topology.edges?.length ? ['local', 'edge', 'cloud'] : ['local', 'cloud'];
  const final = new Map<number, { tier: ExitTier; prediction: number; label: number | null }>();
  // Samples that ended without an answer: in no exit, but the scores their devices sent count in the bytes.
  const unanswered = new Set<number>();
  for (const e of events) {
    if (e.type === 'SampleUnanswered' && e.data.sessionId === sessionId) unanswered.add(e.data.sampleIndex);
    if (e.type === 'ExitDecided' && e.data.sessionId === sessionId && answersSample(e.data) && !final.has(e.data.sampleIndex)) {
      final.set(e.data.sampleIndex, { tier: e.data.tier, prediction: e.data.prediction, label: e.data.label });
    }
  }
  const n = final.size;
  const per = (x: number) => (n === 0 ? 0 : x / n);
  const stats = new Map(tiers.map((t) => [t, { exited: 0, labelled: 0, correct: 0 }]));
  for (const f of final.values()) {
    const st = stats.get(f.tier);
    if (!st) throw new Error(`session ${sessionId}: exit at ${f.tier}, which its topology does not have`);
    st.exited++;
    if (f.label !== null) {
      st.labelled++;
      if (f.prediction === f.label) st.correct++;
    }
  }
  const bytes: Record<PayloadKind, number> = { scores: 0, features: 0, raw: 0 };
  const links = new Map<string, LinkTraffic>();
  for (const e of events) {
    const traffic = sampleTraffic(e);
    if (!traffic || traffic.sessionId !== sessionId || !(final.has(traffic.sampleIndex) || unanswered.has(traffic.sampleIndex))) continue;
    for (const d of traffic.messages) {
      if (d.shadow) continue;
      bytes[d.kind] += d.bytes;
      const key = `${d.from}|${d.to}|${d.kind}`;
      const link = links.get(key) ?? { from: d.from, to: d.to, kind: d.kind, messages: 0, bytesPerSample: 0 };
      link.messages++;
      link.bytesPerSample += d.bytes;
      links.set(key, link);
    }
  }
  let labelled = 0;
  let correct = 0;
  for (const st of stats.values()) {
    labelled += st.labelled;
    correct += st.correct;
  }
  return {
    sessionId,
    samples: n,
    accuracy: labelled === 0 ? null : correct / labelled,
    exits: tiers.map((tier) => {
      const st = stats.get(tier) ?? { exited: 0, labelled: 0, correct: 0 };
      return { tier, exited: st.exited, exitRate: per(st.exited), accuracy: st.labelled === 0 ? null : st.correct / st.labelled };
    }),
    localExitRate: per(stats.get('local')?.exited ?? 0),
    bytesPerSample: per(bytes.scores + bytes.features + bytes.raw),
    bytesByKind: { scores: per(bytes.scores), features: per(bytes.features), raw: per(bytes.raw) },
    links: [...links.values()].map((l) => ({ ...l, bytesPerSample: per(l.bytesPerSample) })),
  };
}
