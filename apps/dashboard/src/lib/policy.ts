import type { EntropyPolicySpec, SessionSummary } from '@ddnn/contracts';

/** "entropy T=0.8" or "entropy T=0.8/0.6" for a session's live policy. */
export function livePolicyLabel(p: EntropyPolicySpec | null | undefined): string {
  if (!p) return '–';
  const t = p.thresholds;
  return `${p.kind} T=${t.local}${t.edge !== undefined ? `/${t.edge}` : ''}`;
}

/** Fraction of decided samples that exited locally, null before any decision. */
export function localExitRate(s: SessionSummary | null | undefined): number | null {
  if (!s || s.samplesDecided === 0) return null;
  return s.exits.local.exited / s.samplesDecided;
}
