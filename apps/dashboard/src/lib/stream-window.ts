import {
  addGap,
  answersSample,
  emptyGaps,
  emptySessionSummary,
  foldSessionEvents,
  type MissTally,
  type RunWindowTotals,
  type SessionSummary,
  type StoredEvent,
  type StreamGap,
  type StreamGapsSummary,
  type StreamGapTotals,
} from '@ddnn/contracts';
import { runMisses } from './misses';
import { localExitRate } from './policy';
import type { DecidedRow } from './replay';
import { checkpointAfter } from './live';

/** The windows an operator picks from; `custom` takes explicit instants. */
export const WINDOW_PRESETS = [
  { key: '5m', label: 'last 5 min', ms: 5 * 60_000 },
  { key: '1h', label: 'last 1 h', ms: 3_600_000 },
  { key: '24h', label: 'last 24 h', ms: 86_400_000 },
] as const;
export type WindowKey = (typeof WINDOW_PRESETS)[number]['key'] | 'custom';

/** [from, to) as ISO instants: a preset ends now; a custom window is what the operator typed (local time). */
export function windowBounds(key: WindowKey, custom: { from: string; to: string }, now = Date.now()): { from: string; to?: string } | null {
  const preset = WINDOW_PRESETS.find((p) => p.key === key);
  if (preset) return { from: new Date(now - preset.ms).toISOString() };
  const from = new Date(custom.from);
  const to = new Date(custom.to);
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to <= from) return null;
  return { from: from.toISOString(), to: to.toISOString() };
}

/**
 * The summary of only the samples of a window, with the same fold the server uses for the whole log. Labels count
 * for the window's samples only: a label posted in the window for a sample decided before it (labels come hours
 * late) carries that sample's decision and was counted as if the sample were the window's.
 */
export function windowSummary(runId: string, events: readonly StoredEvent[]): SessionSummary {
  // The window's samples as its decisions count them: decided in it (started maybe just before), or unanswered in it.
  const samples = new Set<number>();
  for (const e of events) {
    if ((e.type === 'ExitDecided' && answersSample(e.data)) || e.type === 'SampleUnanswered') samples.add(e.data.sampleIndex);
  }
  return foldSessionEvents(
    emptySessionSummary(runId),
    events.filter((e) => e.type !== 'SampleLabelled' || samples.has(e.data.sampleIndex)),
  );
}

/** The headline figures of a window, from its events (windowSummary) or, for a window too long to read, the rollup. */
export interface WindowFigures {
  decided: number;
  unanswered: number;
  triggered: number;
  labelled: number;
  correct: number;
  accuracy: number | null;
  localExits: number;
  localExitRate: number | null;
  bytes: number;
  bytesPerSample: number | null;
  misses: MissTally;
}

export function figuresOfSummary(s: SessionSummary): WindowFigures {
  return {
    decided: s.samplesDecided,
    unanswered: s.unanswered ?? 0,
    triggered: s.samplesStarted,
    labelled: s.labelled,
    correct: s.correct,
    accuracy: s.accuracy,
    localExits: s.exits.local.exited,
    localExitRate: localExitRate(s),
    bytes: s.bytes.total,
    bytesPerSample: s.bytes.perSample,
    misses: runMisses(s),
  };
}

/** The same figures from the rollup's totals (per answered sample, as the summary's). */
export function figuresOfTotals(t: RunWindowTotals): WindowFigures {
  return {
    decided: t.decided,
    unanswered: t.unanswered,
    triggered: t.samples,
    labelled: t.labelled,
    correct: t.correct,
    accuracy: t.labelled ? t.correct / t.labelled : null,
    localExits: t.exits.local,
    localExitRate: t.decided ? t.exits.local / t.decided : null,
    bytes: t.bytes,
    bytesPerSample: t.decided ? t.bytes / t.decided : null,
    misses: t.misses,
  };
}

type Gap = Omit<StreamGap, 'sessionId'>;

/** A window's gaps: their totals, and those it can list (`recent`); `partial` when it counted more than it lists. */
export interface WindowGaps extends StreamGapsSummary {
  partial: boolean;
}

/**
 * A window's gaps: those whose span overlaps [from, to), from its own events (`read`: gaps logged in it) and from the
 * stream's latest ones (`recent`, the summary's): a gap is logged when it ends (an outage as the stream resumes), so a
 * window inside an outage holds no StreamGap of its own. A window too long to read event by event has its totals from
 * the rollup (`totals`: the gaps logged in it), and lists only those its read and the stream's latest hold.
 */
export function windowGaps(
  read: StreamGapsSummary | undefined,
  recent: readonly Gap[] | undefined,
  bounds: { from: string; to?: string },
  totals?: StreamGapTotals,
): WindowGaps | undefined {
  const from = Date.parse(bounds.from);
  const to = bounds.to ? Date.parse(bounds.to) : Infinity;
  const byKey = new Map<string, Gap>();
  for (const g of [...(read?.recent ?? []), ...(recent ?? [])]) {
    if (g.from < to && g.to >= from) byKey.set(`${g.cause}|${g.from}|${g.nextSample}`, g);
  }
  const listed = emptyGaps();
  for (const g of [...byKey.values()].sort((a, b) => a.from - b.from)) addGap(listed, g);
  if (!totals) return byKey.size ? { ...listed, partial: false } : undefined;
  // The rollup counts a gap by when it was logged (in the window widened to whole buckets) and the list by its span:
  // each figure is the larger of the two, so neither undercounts what the other knows.
  const out: WindowGaps = { ...emptyGaps(), recent: listed.recent, partial: false };
  for (const cause of Object.keys(out.missedTriggers) as (keyof StreamGapTotals['missedTriggers'])[]) {
    out.missedTriggers[cause] = Math.max(listed.missedTriggers[cause], totals.missedTriggers[cause] ?? 0);
    if (out.missedTriggers[cause] > listed.missedTriggers[cause]) out.partial = true;
  }
  out.outages = Math.max(listed.outages, totals.outages);
  out.outageMs = Math.max(listed.outageMs, totals.outageMs);
  if (out.outages > listed.outages) out.partial = true;
  return out.partial || byKey.size ? out : undefined;
}

/** Sample-index bounds of the samples decided in a window (what compare evaluates), or null when none. */
export function sampleBounds(events: readonly StoredEvent[]): { fromSample: number; toSample: number } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const e of events) {
    if (e.type !== 'ExitDecided' || !e.data.exited || e.data.shadow) continue;
    lo = Math.min(lo, e.data.sampleIndex);
    hi = Math.max(hi, e.data.sampleIndex);
  }
  return lo <= hi ? { fromSample: lo, toSample: hi } : null;
}

/**
 * A window's events: those read over REST, then those the live feed delivered after the read's last one, all
 * logged in [from, to). A preset window slides: events older than its start drop out as the clock moves.
 */
export function windowEvents(read: readonly StoredEvent[], live: readonly StoredEvent[], bounds: { from: string; to?: string }): StoredEvent[] {
  const last = read.length ? read[read.length - 1].checkpoint : null;
  const from = Date.parse(bounds.from);
  const to = bounds.to ? Date.parse(bounds.to) : Infinity;
  const inWindow = (e: StoredEvent) => {
    const t = Date.parse(e.createdAt);
    return t >= from && t < to;
  };
  return [...read, ...live.filter((e) => checkpointAfter(e.checkpoint, last))].filter(inWindow);
}

/** The window's decided samples, newest first (at most `limit`), with the label each has been given, if any. */
export function latestDecisions(events: readonly StoredEvent[], limit: number): DecidedRow[] {
  const labels = new Map<number, number>();
  for (const e of events) if (e.type === 'SampleLabelled') labels.set(e.data.sampleIndex, e.data.label);
  const rows: DecidedRow[] = [];
  for (let k = events.length - 1; k >= 0 && rows.length < limit; k--) {
    const e = events[k];
    if (e.type !== 'ExitDecided' || !answersSample(e.data)) continue;
    const { sampleIndex, tier, eta, prediction, label } = e.data;
    rows.push({ sampleIndex, tier, eta, prediction, label: label ?? labels.get(sampleIndex) ?? null });
  }
  return rows;
}
