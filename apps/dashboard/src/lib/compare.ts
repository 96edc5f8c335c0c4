import { isDeviceMiss, type CompareRow, type LinkModel, type PolicySpec, type RunKind, type SampleWindow, type SessionConfiguration, type SessionSummary, type StoredEvent, type SweepResult } from '@ddnn/contracts';
import { policyLabel, runTableEvents, type SessionSampleTable, sessionSamplesFromEvents } from '@ddnn/policies';
import type { DeviceNames } from './device-names';
import { deviceMisses } from './misses';
import { windowSummary } from './stream-window';

/** One device's share in a run (or a window of its samples): how often it answered, and how well and at what cost. */
export interface DeviceContribution {
  sessionId: string;
  deviceId: string;
  view: number;
  answerRate: number;
  /** Its own (device exit) accuracy over answered labelled samples. */
  accuracy: number | null;
  /** Answered samples with a label (what `accuracy` is measured on). */
  labelled: number;
  /** Its missed replies (DeviceMissed, scores or features, but skipped captures), as device_miss_rate counts them. */
  missed: number;
  /** Its skipped captures: requests with nothing captured to answer. */
  notCaptured: number;
  /** Bytes it sent (counted, not shadow) per decided sample. */
  bytesPerSample: number | null;
}

/** What the compare page shows of one run: a session whole, or a window of a stream's samples. */
export interface SessionAnalysis {
  sessionId: string;
  kind: RunKind;
  /** The samples evaluated; null: the whole session. */
  window: SampleWindow | null;
  /** How the page names it: the run's name (else its short id), with its window. */
  name: string;
  /** The run's own name, if it has one. */
  runName: string | undefined;
  /** Its finished samples (answered, or without an answer), as both the API's rows and the device side count them. */
  samples: number;
  /** Whether the run's topology has an edge tier (its edge exit rates are charted). */
  hasEdge: boolean;
  /** The API's threshold sweep (GET /api/analysis/sweep), with the run's link model, on its window if any. */
  sweep: SweepResult;
  /** Per device, from the run's events (of its window's samples, for a window). */
  devices: DeviceContribution[];
  /** Samples where at least one device missed its scores (a fault scenario shows up here), skipped captures aside. */
  samplesWithMisses: number;
  /** Samples where at least one camera captured nothing (a skipped capture), and no device missed. */
  samplesNotCaptured: number;
  /** The names the run recorded for its devices. */
  deviceNames: DeviceNames;
  /** Why the device side covers less than the policies do (a window read only in part), else null. */
  deviceNote: string | null;
  /** The link the run recorded (null: none simulated), which the latency estimates use. */
  link: SessionConfiguration['link'];
}

function missesOf(t: SessionSummary['devices'][string] | undefined): Pick<DeviceContribution, 'missed' | 'notCaptured'> {
  if (!t) return { missed: 0, notCaptured: 0 };
  const { missed, notCaptured } = deviceMisses(t);
  return { missed, notCaptured };
}

/** Per-device answer rate and own-exit accuracy from a run's sample table, with misses and bytes from its summary. */
export function deviceContributions(t: SessionSampleTable, summary: SessionSummary): DeviceContribution[] {
  const d = t.devices.length;
  const c = t.classes.length;
  const sent = new Map<string, number>();
  for (const l of summary.bytes.links) sent.set(l.from, (sent.get(l.from) ?? 0) + l.bytes);
  return t.devices.map((dev, j) => {
    let answered = 0;
    let labelled = 0;
    let right = 0;
    for (let s = 0; s < t.n; s++) {
      if (!t.device.answered[s * d + j]) continue;
      answered++;
      if (t.label[s] < 0) continue;
      labelled++;
      let best = 0;
      for (let k = 1; k < c; k++) if (t.device.probabilities[(s * d + j) * c + k] > t.device.probabilities[(s * d + j) * c + best]) best = k;
      if (best === t.label[s]) right++;
    }
    return {
      sessionId: t.sessionId,
      deviceId: dev.deviceId,
      view: dev.view,
      answerRate: t.n ? answered / t.n : 0,
      accuracy: labelled ? right / labelled : null,
      labelled,
      ...missesOf(summary.devices[dev.deviceId]),
      bytesPerSample: t.n ? (sent.get(dev.deviceId) ?? 0) / t.n : null,
    };
  });
}

/** Whether an event is about one of the window's samples (a start event, about none, is kept). */
export function inSampleWindow(e: StoredEvent, w: SampleWindow): boolean {
  if (!('sampleIndex' in e.data)) return e.type === 'SessionStarted' || e.type === 'StreamStarted';
  return e.data.sampleIndex >= w.fromSample && e.data.sampleIndex <= w.toSample;
}

/**
 * A run's device contributions and misses from its events (what the API's rows do not carry), on a window of its
 * samples when given. A stream's start and late labels are read through the table rule the API's compare uses.
 */
export function deviceSide(
  runId: string,
  events: readonly StoredEvent[],
  window: SampleWindow | null,
): { samples: number; devices: DeviceContribution[]; samplesWithMisses: number; samplesNotCaptured: number } {
  const mine = window ? events.filter((e) => inSampleWindow(e, window)) : events;
  const table = sessionSamplesFromEvents(runTableEvents(mine));
  const skipped = new Set<string>();
  for (const e of mine) if (e.type === 'DeviceMissed' && e.data.stage === 'scores' && !isDeviceMiss(e.data.reason)) skipped.add(`${e.data.deviceId}:${e.data.sampleIndex}`);
  const d = table.devices.length;
  let samplesWithMisses = 0;
  let samplesNotCaptured = 0;
  for (let s = 0; s < table.n; s++) {
    let missed = false;
    let notCaptured = false;
    for (let j = 0; j < d; j++) {
      if (table.device.answered[s * d + j]) continue;
      // An unanswered request without a logged skip is the device's: it counts as a miss.
      if (skipped.has(`${table.devices[j].deviceId}:${table.sampleIndex[s]}`)) notCaptured = true;
      else missed = true;
    }
    if (missed) samplesWithMisses++;
    else if (notCaptured) samplesNotCaptured++;
  }
  return { samples: table.n, devices: deviceContributions(table, windowSummary(runId, mine)), samplesWithMisses, samplesNotCaptured };
}

/** The link model the API's latency estimates use for a session: its recorded link on every message. */
export function linkModelOf(link: SessionConfiguration['link'] | undefined): LinkModel | undefined {
  return link ? { default: { latencyMs: link.latencyMs, bandwidthKbps: link.bandwidthKbps } } : undefined;
}

/**
 * Half-width of the 95% interval of an accuracy measured on n labelled samples (normal approximation of the
 * binomial): 90% on 171 samples is 90% +/- 4.5 points. Null when there is nothing to bound.
 */
export function accuracyHalfWidth(accuracy: number | null, n: number): number | null {
  if (accuracy === null || !Number.isFinite(accuracy) || n <= 0) return null;
  // At 0% or 100% the normal approximation says 0: use the rule of three (95% bound 3/n) instead.
  if (accuracy === 0 || accuracy === 1) return Math.min(1, 3 / n);
  return 1.96 * Math.sqrt((accuracy * (1 - accuracy)) / n);
}

/** Rows of the API's compare for each session, in the order asked (the API marks the frontier per session). */
export type Row = CompareRow & { label: string };

/** The policy presets the Compare page offers, given its threshold inputs. */
export function presetPolicies(o: { entropy: number[]; confidence: number[]; baselines: boolean }): PolicySpec[] {
  const list: PolicySpec[] = [
    ...o.entropy.map((t): PolicySpec => ({ kind: 'entropy', thresholds: { local: t, edge: t } })),
    ...o.confidence.map((t): PolicySpec => ({ kind: 'confidence', thresholds: { local: t, edge: t } })),
  ];
  if (o.baselines) list.push({ kind: 'always-local' }, { kind: 'always-cloud' }, { kind: 'raw-offload' });
  return list.map((p) => ({ ...p, name: policyLabel(p).replace(/T=([\d.]+)\/\1/, 'T=$1') }));
}

/** Parses "0.2, 0.5 0.8" into thresholds in [0, 1]; throws naming the bad entry. */
export function parseThresholds(text: string, what: string): number[] {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  return parts.map((p) => {
    const x = Number(p);
    if (!Number.isFinite(x) || x < 0 || x > 1) throw new Error(`${what}: "${p}" is not a threshold in [0, 1]`);
    return x;
  });
}

/** A run the compare page evaluates: a session whole, or a stream (or session) on a window of its samples. */
export interface PickedRun {
  id: string;
  window: SampleWindow | null;
  /**
   * When the window's samples began to be decided (epoch ms), as the stream page read them: where its device side
   * starts reading the stream's log. Null: unknown (the log is read from the stream's start).
   */
  since?: number | null;
}

/**
 * `windows=<id>:<from>-<to>[@<since>],...` of the page's address: the windowed runs, each with the instant its
 * samples began to be decided when known (malformed entries are dropped).
 */
export function parseWindowsParam(text: string | null): PickedRun[] {
  return (text ?? '').split(',').flatMap((part) => {
    const m = /^([0-9a-f-]{1,64}):(\d{1,10})-(\d{1,10})(?:@(\d{1,15}))?$/i.exec(part.trim());
    if (!m) return [];
    const fromSample = Number(m[2]);
    const toSample = Number(m[3]);
    return toSample >= fromSample ? [{ id: m[1], window: { fromSample, toSample }, since: m[4] === undefined ? null : Number(m[4]) }] : [];
  });
}

/** One entry of the `windows` parameter. */
export const windowParam = (id: string, w: SampleWindow, since: number | null | undefined): string =>
  `${id}:${w.fromSample}-${w.toSample}${since === null || since === undefined ? '' : `@${Math.floor(since)}`}`;

export function windowsParam(runs: readonly PickedRun[]): string {
  return runs.flatMap((r) => (r.window ? [windowParam(r.id, r.window, r.since)] : [])).join(',');
}
