import {
  answersSample,
  sampleSections,
  sampleTraffic,
  type DeviceMissed,
  type ExitDecided,
  type ExitTier,
  type LinkMessage,
  type SampleSections,
  type SampleTraffic,
  type SampleStarted,
  type SectionOutput,
  type SessionStarted,
  type StoredEvent,
} from '@ddnn/contracts';

/** Everything the log says about one sample, in the order the session decided samples. */
export interface SampleFrame {
  sampleIndex: number;
  sampleId: string;
  /** The dataset's label, else a stream's first SampleLabelled for the sample; null while unknown. */
  label: number | null;
  /** Live-path sections (shadow ones are in `shadowSections`). */
  sections: SectionOutput[];
  shadowSections: SectionOutput[];
  /** Every exit check, live and shadow, in log order. */
  exitChecks: ExitDecided[];
  /** The live exit that answered, null while undecided. */
  exit: ExitDecided | null;
  /** Its link messages, live and shadow, in log order. */
  transfers: LinkMessage[];
  missed: DeviceMissed[];
  /** Counted (non-shadow) bytes for this sample. */
  bytes: number;
}

/** A decided sample as a latest-exits table shows it; `label` null while unknown (a stream's, until labelled). */
export interface DecidedRow {
  sampleIndex: number;
  tier: ExitTier;
  eta: number;
  prediction: number;
  label: number | null;
}

/** Running totals after the first n decided samples. */
export interface CumulativePoint {
  /** 1-based position in decision order. */
  n: number;
  sampleIndex: number;
  accuracy: number | null;
  localExitRate: number;
  bytesTotal: number;
  bytesPerSample: number;
}

export interface ReplayModel {
  started: SessionStarted | null;
  end: { kind: 'completed' | 'aborted'; detail: string } | null;
  /** Decided samples in decision order: the timeline. */
  frames: SampleFrame[];
  /** Samples started but not decided yet (an aborted or running session), unanswered ones apart. */
  undecided: number;
  /** Samples that finished without an answer (SampleUnanswered). */
  unanswered: number;
  cumulative: CumulativePoint[];
}

function emptyFrame(s: Pick<SampleStarted, 'sampleIndex' | 'sampleId' | 'label'>): SampleFrame {
  return { ...s, sections: [], shadowSections: [], exitChecks: [], exit: null, transfers: [], missed: [], bytes: 0 };
}

/**
 * Folds a run's events into replay frames and cumulative charts (pure: same log, same replay). A label that arrived
 * after its sample's decision (a stream's SampleLabelled) counts as if known from the start: the cumulative accuracy
 * is over what the log knows now, as the run's summary counts it.
 */
export function buildReplay(events: readonly StoredEvent[]): ReplayModel {
  let started: SessionStarted | null = null;
  let end: ReplayModel['end'] = null;
  const bySample = new Map<number, SampleFrame>();
  const order: SampleFrame[] = [];
  // A stream's samples start unlabelled; labels come later, in any order relative to the decision.
  const labels = new Map<number, number>();
  let unanswered = 0;
  const frame = (i: number): SampleFrame => {
    let f = bySample.get(i);
    if (!f) {
      f = emptyFrame({ sampleIndex: i, sampleId: String(i), label: null });
      bySample.set(i, f);
    }
    return f;
  };
  for (const e of events) {
    switch (e.type) {
      case 'SessionStarted':
        started = e.data;
        break;
      case 'SampleStarted': {
        const f = frame(e.data.sampleIndex);
        f.sampleId = e.data.sampleId;
        f.label = e.data.label;
        break;
      }
      case 'SectionEvaluated':
      case 'SectionsEvaluated': {
        const x = sampleSections(e) as SampleSections;
        const f = frame(x.sampleIndex);
        for (const d of x.sections) (d.shadow ? f.shadowSections : f.sections).push(d);
        break;
      }
      case 'ExitDecided': {
        const f = frame(e.data.sampleIndex);
        f.exitChecks.push(e.data);
        if (answersSample(e.data) && !f.exit) {
          f.exit = e.data;
          order.push(f);
        }
        break;
      }
      case 'BytesTransferred':
      case 'MessagesTransferred': {
        const t = sampleTraffic(e) as SampleTraffic;
        const f = frame(t.sampleIndex);
        for (const m of t.messages) {
          f.transfers.push(m);
          if (!m.shadow) f.bytes += m.bytes;
        }
        break;
      }
      case 'DeviceMissed':
        frame(e.data.sampleIndex).missed.push(e.data);
        break;
      case 'SampleLabelled':
        // A label is final: the API refuses another for a labelled sample, so a second one in the log is ignored.
        if (!labels.has(e.data.sampleIndex)) labels.set(e.data.sampleIndex, e.data.label);
        break;
      case 'SampleUnanswered':
        unanswered++;
        break;
      case 'SessionCompleted':
        end = { kind: 'completed', detail: `${e.data.samples} samples in ${(e.data.durationMs / 1000).toFixed(1)} s` };
        break;
      case 'SessionAborted':
        end = { kind: 'aborted', detail: `${e.data.reason} after ${e.data.samplesDone} samples` };
        break;
      default:
        break;
    }
  }
  // Bytes logged after the exit (e.g. a late reply) belong to the sample too, so totals are summed at the end.
  const cumulative: CumulativePoint[] = [];
  let labelled = 0;
  let correct = 0;
  let local = 0;
  let bytesTotal = 0;
  order.forEach((f, i) => {
    const x = f.exit!;
    f.label ??= x.label ?? labels.get(f.sampleIndex) ?? null;
    if (f.label !== null) {
      labelled++;
      if (x.prediction === f.label) correct++;
    }
    if (x.tier === 'local') local++;
    bytesTotal += f.bytes;
    const n = i + 1;
    cumulative.push({
      n,
      sampleIndex: f.sampleIndex,
      accuracy: labelled ? correct / labelled : null,
      localExitRate: local / n,
      bytesTotal,
      bytesPerSample: bytesTotal / n,
    });
  });
  return { started, end, frames: order, undecided: bySample.size - order.length - unanswered, unanswered, cumulative };
}

/** Counted bytes of one frame by link `from->to`. */
export function bytesByLink(f: SampleFrame): { link: string; kind: string; bytes: number; shadow: boolean }[] {
  return f.transfers.map((t) => ({ link: `${t.from}->${t.to}`, kind: t.kind, bytes: t.bytes, shadow: t.shadow }));
}

/** The aggregated (local, edge, cloud) sections of a frame, live path first, in tier order. */
export function aggregatedSections(f: SampleFrame): SectionOutput[] {
  const rank: Record<string, number> = { local: 0, edge: 1, cloud: 2 };
  return [...f.sections, ...f.shadowSections]
    .filter((s) => s.tier !== 'device')
    .sort((a, b) => rank[a.tier] - rank[b.tier] || Number(a.shadow) - Number(b.shadow));
}

/** The exit check at a tier on the live path, if the sample got there. */
export function liveCheck(f: SampleFrame, tier: ExitTier): ExitDecided | undefined {
  return f.exitChecks.find((c) => c.tier === tier && !c.shadow);
}

/** Clamps a URL position to the timeline (positions are 1-based sample counts; 0 = before the first). */
export function clampPosition(t: number, frames: number): number {
  if (!Number.isFinite(t)) return frames > 0 ? 1 : 0;
  return Math.max(frames > 0 ? 1 : 0, Math.min(frames, Math.round(t)));
}
