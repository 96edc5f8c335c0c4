import { answersSample, countGap, emptyGapTotals, linkId, STREAM_GAP_CAUSES, sampleSections, sampleTraffic, streamIds, type ExitTier, type MissReason, type SampleSections, type SampleTraffic, type StoredEvent, type StreamGapTotals } from '@ddnn/contracts';
import { argmax, CONFIDENCE_BINS, devicesAgree, ENTROPY_BINS, latencyBin, stratifiedBin, stratumKey, unitBin, type SparseHistogram } from '@ddnn/policies';

/**
 * The metrics rollup (issue 17): per time bucket, per run (session or stream), what the run did; per device of
 * the run and per link, the same for that device or link. Every field is a count or a histogram, so cells of any
 * buckets, runs or devices merge by addition (`mergeCells`), and a rebuild from the log in batches of any size
 * sums to the live result.
 */
export interface RollupCell {
  /** Samples started (run cells). */
  samples?: number;
  /** Samples with a live exit decision, and those answered at each exit. */
  decided?: number;
  exits?: Partial<Record<ExitTier, number>>;
  /** Samples that ended without an answer (SampleUnanswered): nothing reached an exit that could answer. */
  unanswered?: number;
  /** Normalized entropy at each live exit check, over every sample that reached it (ENTROPY_BINS bins). */
  entropy?: Partial<Record<ExitTier, SparseHistogram>>;
  /**
   * Max-probability of the answering exit's output, per exit, over decided samples (CONFIDENCE_BINS bins), keyed
   * by stratum and bin (`stratifiedBin`: predicted class, whether most devices agreed with it; @ddnn/policies).
   */
  confidence?: Partial<Record<ExitTier, SparseHistogram>>;
  /** The same over decided samples whose label is known, and over those predicted right (the calibration's input). */
  confidenceLabelled?: Partial<Record<ExitTier, SparseHistogram>>;
  confidenceCorrect?: Partial<Record<ExitTier, SparseHistogram>>;
  /** Decided samples with a known label (at start or posted later), and those predicted right; per exit too. */
  labelled?: number;
  correct?: number;
  labelledByExit?: Partial<Record<ExitTier, number>>;
  correctByExit?: Partial<Record<ExitTier, number>>;
  /** Device requests answered in time (live device sections) and missed, by reason (run and device cells). */
  answered?: number;
  missed?: number;
  missedBy?: Partial<Record<MissReason, number>>;
  /** Latency of answered device sections (LATENCY bins, see latencyBin). */
  latency?: SparseHistogram;
  /** Normalized entropy of answered device sections (ENTROPY_BINS bins): the device's own view of the scene. */
  sectionEntropy?: SparseHistogram;
  /** Decided samples the device answered, and those where its own argmax equals the fused decision. */
  agreeN?: number;
  agree?: number;
  /**
   * Decided samples where the other devices that answered had one most-voted class, and those where the device's
   * own argmax was that class (device cells): unlike agreement with the fused decision, one camera gone bad
   * cannot drag a healthy one's down by swaying the fusion.
   */
  peerAgreeN?: number;
  peerAgree?: number;
  /** Counted (non-shadow) messages and bytes (run and link cells). */
  messages?: number;
  bytes?: number;
  /** A stream's gaps (StreamGap), counted in the bucket they were logged in, as it ends (run cells). */
  gaps?: Partial<StreamGapTotals>;
}

export type RollupScope = 'run' | 'device' | 'link';
export const ROLLUP_RESOLUTIONS = [60_000, 3_600_000] as const;

/** What the rollup remembers about one sample between its events (device answers before the decision; a label after it). */
export interface SampleRollupState {
  /** Device id -> argmax of its live section. */
  devices?: Record<string, number>;
  /** Exit tier -> confidence bin of that tier's live section. */
  confidence?: Partial<Record<ExitTier, number>>;
  /** A label posted before the decision. */
  label?: number;
  /** `bin`: the stratified confidence key (a bare bin number in states written before strata). */
  decided?: { at: number; tier: ExitTier; prediction: number; bin: string | number | null };
  /** Its label has been counted. */
  counted?: boolean;
}

/** One cell a batch changes: where it is (resolution, bucket, run, scope, key) and what the batch adds to it. */
export interface RollupCellDelta {
  resolution: number;
  bucket: number;
  runId: string;
  scope: RollupScope;
  key: string;
  cell: RollupCell;
}

/** The cells one batch changes, and the sample states it read and changed (keyed by sampleKey). */
export interface RollupDelta {
  cells: RollupCellDelta[];
  samples: Map<string, SampleRollupState | null>;
  /**
   * Sessions (dataset runs) that ended in this batch: their samples' labels came with the dataset, so the ones
   * still waiting for a label never get one and are forgotten. Streams take labels at any time.
   */
  ended: string[];
}

/** A sample's key in maps: the run id, then the index after the last '#' (an integer: never ambiguous). */
export function sampleKey(runId: string, sampleIndex: number): string {
  return `${runId}#${sampleIndex}`;
}
export function parseSampleKey(k: string): { runId: string; sampleIndex: number } {
  const i = k.lastIndexOf('#');
  return { runId: k.slice(0, i), sampleIndex: Number(k.slice(i + 1)) };
}

/**
 * A batch's cells, found by nested maps (resolution, bucket, run, then scope and key) rather than by a key
 * string built per addition: a sample adds to some forty cells, and building JSON keys and cloning deltas for
 * each was the largest part of the rollup's CPU.
 */
class BatchCells {
  private readonly byResolution = ROLLUP_RESOLUTIONS.map(() => new Map<number, Map<string, Map<string, RollupCellDelta>>>());
  readonly list: RollupCellDelta[] = [];
  // The cells of the last (instant, run) added to, per resolution: a sample's dozens of additions share them.
  private lastAt = NaN;
  private lastRun = '';
  private readonly lastCells: Map<string, RollupCellDelta>[] = [];

  /** Adds `delta` (not kept: its numbers are copied) to the cell of each resolution holding `at`. */
  add(at: number, runId: string, scope: RollupScope, key: string, delta: RollupCell): void {
    const same = at === this.lastAt && runId === this.lastRun;
    this.lastAt = at;
    this.lastRun = runId;
    for (let r = 0; r < ROLLUP_RESOLUTIONS.length; r++) {
      const resolution = ROLLUP_RESOLUTIONS[r];
      const bucket = Math.floor(at / resolution) * resolution;
      let cells = same ? this.lastCells[r] : undefined;
      if (!cells) {
        const buckets = this.byResolution[r];
        let runs = buckets.get(bucket);
        if (!runs) buckets.set(bucket, (runs = new Map()));
        cells = runs.get(runId);
        if (!cells) runs.set(runId, (cells = new Map()));
        this.lastCells[r] = cells;
      }
      // Scopes hold no ':', so scope:key names one (scope, key) pair.
      const name = `${scope}:${key}`;
      let entry = cells.get(name);
      if (!entry) {
        entry = { resolution, bucket, runId, scope, key, cell: {} };
        cells.set(name, entry);
        this.list.push(entry);
      }
      mergeCells(entry.cell, delta);
    }
  }
}

/** Adds `b` into `a` (numbers add, nested records merge), in place; returns `a`. */
export function mergeCells<T extends object>(a: T, b: T): T {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // for-in over plain objects (cells are JSON-shaped): no entries array per call on the rollup's hot path.
  for (const k in y) {
    const v = y[k];
    if (typeof v === 'number') x[k] = ((x[k] as number | undefined) ?? 0) + v;
    else if (v && typeof v === 'object') x[k] = mergeCells((x[k] as object | undefined) ?? {}, v as object);
  }
  return a;
}

/** A label posted for a sample after the fact (streams), when well-formed. */
function labelOf(e: StoredEvent): { runId: string; sampleIndex: number; label: number; decided: boolean } | null {
  if (e.type !== 'SampleLabelled') return null;
  const d = e.data;
  if (typeof d.sessionId !== 'string' || !Number.isInteger(d.sampleIndex) || !Number.isInteger(d.label)) return null;
  return { runId: d.sessionId, sampleIndex: d.sampleIndex, label: d.label, decided: d.decision !== undefined };
}

/** The (run, sample) pairs whose state the batch reads, so that they can be loaded before folding. */
export function samplesTouched(events: StoredEvent[]): { runId: string; sampleIndex: number }[] {
  const seen = new Map<string, { runId: string; sampleIndex: number }>();
  for (const e of events) {
    const l = labelOf(e);
    if (l) seen.set(sampleKey(l.runId, l.sampleIndex), { runId: l.runId, sampleIndex: l.sampleIndex });
    else {
      const d = e.type === 'ExitDecided' ? e.data : sampleSections(e);
      if (d) seen.set(sampleKey(d.sessionId, d.sampleIndex), { runId: d.sessionId, sampleIndex: d.sampleIndex });
    }
  }
  return [...seen.values()];
}

/**
 * The one class most of a device's peers name, from the votes of every device (`votes`: class -> devices) less the
 * device's own (`own`); null for fewer than two peers or a tie at the top. Counted once per sample, not per device.
 */
function peerPlurality(votes: Map<number, number>, own: number, peers: number): number | null {
  if (peers < 2) return null;
  let best: number | null = null;
  let top = 0;
  let tied = false;
  for (const [v, n] of votes) {
    const c = v === own ? n - 1 : n;
    if (c === 0) continue;
    if (c > top) [best, top, tied] = [v, c, false];
    else if (c === top) tied = true;
  }
  return tied ? null : best;
}

const maxOf = (p: number[]): number => p.reduce((m, v) => (v > m ? v : m), 0);
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Folds a batch of the log into cell deltas and sample states (pure). `states` holds the stored state of every
 * sample in samplesTouched (absent = none); the result's `samples` holds each touched state's new value (null:
 * delete, the sample needs no more remembering).
 */
export function foldRollup(events: StoredEvent[], states: Map<string, SampleRollupState>): RollupDelta {
  const cells = new BatchCells();
  const samples = new Map<string, SampleRollupState | null>();
  const ended: string[] = [];
  const state = (runId: string, i: number): SampleRollupState => {
    const k = sampleKey(runId, i);
    // A sample forgotten in this batch (null: SampleUnanswered) starts afresh, not from its stored state.
    let s = samples.has(k) ? samples.get(k) : states.get(k);
    if (!s) s = {};
    else if (!samples.has(k)) s = structuredClone(s);
    samples.set(k, s);
    return s;
  };
  const add = (at: number, runId: string, scope: RollupScope, key: string, delta: RollupCell) => cells.add(at, runId, scope, key, delta);
  const countLabel = (runId: string, s: SampleRollupState, label: number) => {
    const d = s.decided!;
    const right = d.prediction === label ? 1 : 0;
    const delta: RollupCell = { labelled: 1, correct: right, labelledByExit: { [d.tier]: 1 }, correctByExit: { [d.tier]: right } };
    if (d.bin !== null) {
      delta.confidenceLabelled = { [d.tier]: { [d.bin]: 1 } };
      if (right) delta.confidenceCorrect = { [d.tier]: { [d.bin]: 1 } };
    }
    add(d.at, runId, 'run', '', delta);
    s.counted = true;
  };

  // Events of one commit share their createdAt: parsed once.
  let lastCreatedAt = '';
  let lastAt = NaN;
  for (const e of events) {
    if (e.createdAt !== lastCreatedAt) {
      lastCreatedAt = e.createdAt;
      lastAt = Date.parse(e.createdAt);
    }
    const at = lastAt;
    if (!Number.isFinite(at)) continue;
    const labelled = labelOf(e);
    if (labelled) {
      const k = sampleKey(labelled.runId, labelled.sampleIndex);
      // Decided before the label was posted, yet nothing remembered: its label was counted already.
      if (labelled.decided && !samples.has(k) && !states.has(k)) continue;
      const s = state(labelled.runId, labelled.sampleIndex);
      if (s.counted) continue; // the first label posted for a sample counts
      if (s.decided) countLabel(labelled.runId, s, labelled.label);
      else s.label = labelled.label;
      continue;
    }
    switch (e.type) {
      case 'SampleStarted':
        add(at, e.data.sessionId, 'run', '', { samples: 1 });
        break;
      case 'SectionEvaluated':
      case 'SectionsEvaluated': {
        const { sessionId, sampleIndex, sections } = sampleSections(e) as SampleSections;
        for (const d of sections) {
          if (d.shadow || !Array.isArray(d.probabilities) || d.probabilities.length === 0) continue;
          const s = state(sessionId, sampleIndex);
          if (d.tier === 'device') {
            (s.devices ??= {})[d.node] = argmax(d.probabilities);
            const delta: RollupCell = { answered: 1 };
            if (finite(d.latencyMs)) delta.latency = { [latencyBin(d.latencyMs)]: 1 };
            if (finite(d.entropy)) delta.sectionEntropy = { [unitBin(d.entropy, ENTROPY_BINS)]: 1 };
            add(at, sessionId, 'run', '', delta);
            add(at, sessionId, 'device', d.node, delta);
          } else {
            const top = maxOf(d.probabilities);
            if (finite(top)) (s.confidence ??= {})[d.tier] = unitBin(top, CONFIDENCE_BINS);
          }
        }
        break;
      }
      case 'ExitDecided': {
        const d = e.data;
        if (d.shadow) break;
        const s = state(d.sessionId, d.sampleIndex);
        if (finite(d.eta)) add(at, d.sessionId, 'run', '', { entropy: { [d.tier]: { [unitBin(d.eta, ENTROPY_BINS)]: 1 } } });
        if (!answersSample(d) || s.decided) break;
        const confidenceBin = s.confidence?.[d.tier];
        const own = Object.values(s.devices ?? {});
        const bin = confidenceBin === undefined ? null : stratifiedBin(stratumKey(d.prediction, devicesAgree(own, d.prediction)), confidenceBin);
        const delta: RollupCell = { decided: 1, exits: { [d.tier]: 1 } };
        if (bin !== null) delta.confidence = { [d.tier]: { [bin]: 1 } };
        add(at, d.sessionId, 'run', '', delta);
        const answered = Object.entries(s.devices ?? {});
        const votes = new Map<number, number>();
        for (const [, own] of answered) votes.set(own, (votes.get(own) ?? 0) + 1);
        // The run's cell takes the sum of its devices' agreements in one addition.
        let agree = 0;
        let peerAgreeN = 0;
        let peerAgree = 0;
        for (const [deviceId, own] of answered) {
          const agreement: RollupCell = { agreeN: 1, agree: own === d.prediction ? 1 : 0 };
          const peers = peerPlurality(votes, own, answered.length - 1);
          if (peers !== null) {
            agreement.peerAgreeN = 1;
            agreement.peerAgree = own === peers ? 1 : 0;
            peerAgreeN++;
            peerAgree += agreement.peerAgree;
          }
          agree += agreement.agree as number;
          add(at, d.sessionId, 'device', deviceId, agreement);
        }
        if (answered.length) add(at, d.sessionId, 'run', '', peerAgreeN ? { agreeN: answered.length, agree, peerAgreeN, peerAgree } : { agreeN: answered.length, agree });
        s.decided = { at, tier: d.tier, prediction: d.prediction, bin };
        delete s.devices;
        delete s.confidence;
        const label = d.label ?? s.label;
        delete s.label;
        if (label !== undefined && label !== null) countLabel(d.sessionId, s, label);
        break;
      }
      case 'SampleUnanswered': {
        add(at, e.data.sessionId, 'run', '', { unanswered: 1 });
        // It will never be decided: what its sections left to remember (devices' votes, confidences) goes now.
        samples.set(sampleKey(e.data.sessionId, e.data.sampleIndex), null);
        break;
      }
      case 'DeviceMissed': {
        const d = e.data;
        const delta: RollupCell = { missed: 1, missedBy: { [d.reason]: 1 } };
        add(at, d.sessionId, 'run', '', delta);
        add(at, d.sessionId, 'device', d.deviceId, delta);
        break;
      }
      case 'BytesTransferred':
      case 'MessagesTransferred': {
        const t = sampleTraffic(e) as SampleTraffic;
        // The run's cell takes the sample's counted messages in one addition; each link's cell its own.
        let messages = 0;
        let bytes = 0;
        for (const d of t.messages) {
          if (d.shadow || !finite(d.bytes)) continue;
          messages++;
          bytes += d.bytes;
          add(at, t.sessionId, 'link', linkId(d.from, d.to), { messages: 1, bytes: d.bytes });
        }
        if (messages) add(at, t.sessionId, 'run', '', { messages, bytes });
        break;
      }
      case 'StreamGap': {
        const d = e.data;
        if (!STREAM_GAP_CAUSES.includes(d.cause) || !finite(d.missedTriggers) || !finite(d.from) || !finite(d.to)) break;
        const gaps = emptyGapTotals();
        countGap(gaps, d);
        add(at, d.sessionId, 'run', '', { gaps });
        break;
      }
      case 'SessionCompleted':
      case 'SessionAborted':
        if (e.streamId === streamIds.session(e.data.sessionId)) {
          ended.push(e.data.sessionId);
          for (const k of samples.keys()) if (parseSampleKey(k).runId === e.data.sessionId) samples.set(k, null);
        }
        break;
      default:
        break;
    }
  }
  // A sample decided with its label counted needs no more remembering; unlabelled ones wait for a label.
  for (const [k, s] of samples) if (s && s.decided && s.counted) samples.set(k, null);
  return { cells: cells.list, samples, ended };
}
