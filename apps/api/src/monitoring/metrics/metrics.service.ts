import { Injectable } from '@nestjs/common';
import {
  emptyGapTotals,
  InvalidInputError,
  MAX_METRIC_POINTS,
  MAX_METRIC_WINDOW_MS,
  METRIC_STEP_HOUR,
  METRIC_STEP_MINUTE,
  METRICS,
  missTally,
  NotFoundError,
  type ConnectivityTimeline,
  type MetricName,
  type MetricPoint,
  type MetricQuery,
  type MetricSeries,
  type MetricSubject,
  type RunWindowTotals,
  type StreamGapTotals,
  TOTALS_HOURLY_FROM_MS,
} from '@ddnn/contracts';
import { connectivitySpans } from './connectivity';
import { estimateExits, estimateSeries, mergeCells, metricFields, referenceModel, seriesPoints, type ReferenceModel, type RollupCell, type RollupRead } from '@ddnn/events';
import { MetricsRepository } from './metrics.repository';

/** Steps a query picks from when it names none: the finest that keeps a chart under AUTO_POINTS points. */
const AUTO_STEPS = [1, 5, 15, 60, 360, 1440].map((m) => m * METRIC_STEP_MINUTE);
const AUTO_POINTS = 1000;
/** Windows of `latest` at least this long read the hourly rollup. */
const LATEST_HOURLY_FROM_MS = 2 * 24 * METRIC_STEP_HOUR;

/**
 * Lookups one caller shares across many reads (an alert round): the reference run of a drift or an estimate, its
 * totals and the subject run's row are the same for every device and rule of the round, and reading them per
 * subject was most of a round's queries after the rollup cells themselves.
 */
export type ReadMemo = Map<string, Promise<unknown>>;

/** `read()` once per memo and key (every call without a memo reads). */
export function once<T>(memo: ReadMemo | undefined, key: string, read: () => Promise<T>): Promise<T> {
  if (!memo) return read();
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) {
    p = read();
    memo.set(key, p);
  }
  return p;
}

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/**
 * Metrics over time (issue 17), read from the rollup the metrics-rollup subscription keeps. `query` gives a
 * series for charts; `latest` one value over the last window, for alert rules.
 */
/** A window of the metrics' reads, [from, to) in epoch ms: from 1970 on, not empty, at most MAX_METRIC_WINDOW_MS. */
function checkWindow(from: number, to: number): void {
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new InvalidInputError('from and to must be epoch ms or ISO times');
  if (from < 0) throw new InvalidInputError('from must be at or after 1970-01-01T00:00:00Z');
  if (to <= from) throw new InvalidInputError('from must be before to (epoch ms or ISO times)');
  if (to - from > MAX_METRIC_WINDOW_MS) throw new InvalidInputError(`a window spans at most ${MAX_METRIC_WINDOW_MS / 86_400_000} days`);
}

@Injectable()
export class MetricsService {
  constructor(private readonly repo: MetricsRepository) {}

  async query(q: MetricQuery): Promise<MetricSeries> {
    checkSubject(q.metric, q.subject);
    checkWindow(q.from, q.to);
    const step = q.step ?? AUTO_STEPS.find((s) => (q.to - q.from) / s <= AUTO_POINTS) ?? AUTO_STEPS[AUTO_STEPS.length - 1];
    if (!Number.isInteger(step) || step < METRIC_STEP_MINUTE || step % METRIC_STEP_MINUTE !== 0) {
      throw new InvalidInputError('step must be a whole number of minutes (in ms, at least 60000)');
    }
    const resolution = step % METRIC_STEP_HOUR === 0 ? METRIC_STEP_HOUR : METRIC_STEP_MINUTE;
    const from = floorTo(q.from, resolution);
    const to = ceilTo(q.to, resolution);
    const steps = Math.ceil((to - from) / step);
    if (steps > MAX_METRIC_POINTS) {
      throw new InvalidInputError(`the window holds ${steps} steps of ${step} ms; at most ${MAX_METRIC_POINTS}: widen the step`);
    }
    const reference = await this.reference(q.metric, q.subject, q.referenceRunId);
    const points = await this.points(q.metric, q.subject, resolution, from, to, step, reference?.model ?? null, Date.now());
    const series: MetricSeries = { metric: q.metric, subject: q.subject, unit: METRICS[q.metric].unit, from, to, step, points };
    if (METRICS[q.metric].reference) series.reference = reference ? { runId: reference.model.runId, samples: reference.samples } : null;
    return series;
  }

  /** The metric over (at least) the last `windowMs` up to now; null when there is nothing to measure. */
  async latest(metric: MetricName, subject: MetricSubject, windowMs: number, referenceRunId?: string, memo?: ReadMemo): Promise<number | null> {
    checkSubject(metric, subject);
    if (!Number.isFinite(windowMs) || windowMs < METRIC_STEP_MINUTE || windowMs > MAX_METRIC_WINDOW_MS) {
      throw new InvalidInputError(`window must be between one minute and ${MAX_METRIC_WINDOW_MS / 86_400_000} days`);
    }
    const resolution = windowMs >= LATEST_HOURLY_FROM_MS ? METRIC_STEP_HOUR : METRIC_STEP_MINUTE;
    // Every bucket holding part of the last windowMs: between windowMs and one bucket more. A window of whole
    // buckets ending with the current one would shrink to the seconds since that bucket began at each rollover,
    // and a rule would judge a handful of samples.
    const now = Date.now();
    const to = ceilTo(now + 1, resolution);
    const from = floorTo(now - windowMs, resolution);
    const reference = await this.reference(metric, subject, referenceRunId, memo);
    // One step over the whole window, its rates over the time up to now (not the rest of the current bucket).
    const [point] = await this.points(metric, subject, resolution, from, to, to - from, reference?.model ?? null, now, memo);
    // Rates over an empty window are 0 (nothing happened); ratios and quantiles of nothing are null.
    return point?.value ?? null;
  }

  /** What a run counted over [from, to), widened to whole buckets of the rollup. */
  async totals(runId: string, from: number, to: number): Promise<RunWindowTotals> {
    checkWindow(from, to);
    const resolution = to - from >= TOTALS_HOURLY_FROM_MS ? METRIC_STEP_HOUR : METRIC_STEP_MINUTE;
    const window = { from: floorTo(from, resolution), to: ceilTo(to, resolution) };
    const fields = ['samples', 'decided', 'unanswered', 'exits', 'labelled', 'correct', 'bytes', 'messages', 'answered', 'missed', 'missedBy', 'gaps'] as const;
    const sum: RollupCell = {};
    for (const { cell } of await this.repo.cells({ resolution, scope: 'run', key: '', runId, ...window, fields: [...fields] })) mergeCells(sum, cell);
    const exits = sum.exits ?? {};
    return {
      runId,
      ...window,
      samples: sum.samples ?? 0,
      decided: sum.decided ?? 0,
      unanswered: sum.unanswered ?? 0,
      exits: { local: exits.local ?? 0, edge: exits.edge ?? 0, cloud: exits.cloud ?? 0 },
      labelled: sum.labelled ?? 0,
      correct: sum.correct ?? 0,
      bytes: sum.bytes ?? 0,
      messages: sum.messages ?? 0,
      misses: missTally(sum.answered ?? 0, sum.missed ?? 0, sum.missedBy?.skipped ?? 0),
      gaps: mergeCells<Partial<StreamGapTotals>>(emptyGapTotals(), sum.gaps ?? {}) as StreamGapTotals,
    };
  }

  /** A device's connected / inactive / disconnected spans over [from, to). */
  async connectivity(deviceId: string, from: number, to: number): Promise<ConnectivityTimeline> {
    checkWindow(from, to);
    const events = await this.repo.connectivityEvents(deviceId);
    return { deviceId, from, to, spans: connectivitySpans(events, from, to) };
  }

  /**
   * The metric's points over [from, to) in steps of `step`, read at `resolution`. With a memo (an alert round), the
   * cells of one device or link come from one read of every key of that scope and window, shared by the round.
   */
  private async points(
    metric: MetricName,
    subject: MetricSubject,
    resolution: number,
    from: number,
    to: number,
    step: number,
    reference: ReferenceModel | null,
    now: number,
    memo?: ReadMemo,
  ): Promise<MetricPoint[]> {
    const read = this.read(metric, subject, resolution, from, to);
    const exits = estimateExits(metric);
    if (exits) {
      const series = estimateSeries(metric, from, to, step, reference);
      await this.repo.confidenceTexts(read, exits, series.add);
      return series.points();
    }
    return seriesPoints(metric, await this.cells(read, memo), from, to, step, reference, subject.deviceId !== undefined, now);
  }

  private async cells(read: RollupRead, memo?: ReadMemo): Promise<{ bucket: number; cell: RollupCell }[]> {
    if (!memo || read.keyPrefix || read.scope === 'run') return this.repo.cells(read);
    const { key, keyPrefix: _, ...all } = read;
    const byKey = await once(memo, `cells|${JSON.stringify(all)}`, () => this.repo.cellsByKey(all));
    return byKey.get(key) ?? [];
  }

  private read(metric: MetricName, subject: MetricSubject, resolution: number, from: number, to: number): RollupRead {
    const { fields } = metricFields(metric);
    const base = { resolution, from, to, fields, runId: subject.runId };
    if (subject.link !== undefined) return { ...base, scope: 'link', key: subject.link };
    if (subject.deviceId !== undefined) {
      // What a device sent: the links that start at it.
      if (metric === 'bytes_per_second') return { ...base, scope: 'link', key: `${subject.deviceId}->`, keyPrefix: true };
      return { ...base, scope: 'device', key: subject.deviceId };
    }
    return { ...base, scope: 'run', key: '' };
  }

  /** The reference run of an estimate or drift metric (null when the metric needs none or none exists). */
  private async reference(
    metric: MetricName,
    subject: MetricSubject,
    referenceRunId?: string,
    memo?: ReadMemo,
  ): Promise<{ model: ReferenceModel; samples: number } | null> {
    if (!METRICS[metric].reference) return null;
    const run = (id: string) => once(memo, `run|${id}`, () => this.repo.run(id));
    let runId = referenceRunId;
    if (runId !== undefined) {
      if (!(await run(runId))) throw new NotFoundError(`no run ${runId} in the log`);
    } else {
      const modelId = subject.runId ? ((await run(subject.runId))?.modelId ?? null) : null;
      runId = (await this.latestReference(modelId, subject, memo)) ?? undefined;
      if (runId === undefined) return null;
    }
    const { referenceFields } = metricFields(metric);
    const fields = [...referenceFields, 'labelled' as const];
    const total = (id: string, scope: 'run' | 'device', key: string) => once(memo, `total|${id}|${scope}|${key}|${fields.join(',')}`, () => this.repo.runTotal(id, scope, key, fields));
    const cell = await total(runId, 'run', '');
    if (subject.deviceId === undefined) return { model: referenceModel(runId, cell), samples: cell.labelled ?? 0 };
    // A device subject is compared with the same device in the reference (null when it took no part there).
    const device = await total(runId, 'device', subject.deviceId);
    return { model: referenceModel(runId, cell, Object.keys(device).length ? device : null), samples: cell.labelled ?? 0 };
  }

  /**
   * The default reference run of a subject (see MetricsRepository.latestLabelledRun). With a memo (an alert round
   * asks for every device) the devices' references are read once for all of them.
   */
  private async latestReference(modelId: string | null, subject: MetricSubject, memo?: ReadMemo): Promise<string | null> {
    const { runId, deviceId } = subject;
    if (deviceId === undefined) return once(memo, `latest|${modelId}|${runId}`, () => this.repo.latestLabelledRun(modelId, runId));
    const byDevice = await once(memo, `latestByDevice|${modelId}|${runId}`, () => this.repo.latestLabelledRunsByDevice(modelId, runId, memo ? null : [deviceId]));
    return byDevice.get(deviceId) ?? null;
  }
}

/** Rejects subject parts the metric does not understand (a link for a latency, say) and malformed ids. */
function checkSubject(metric: MetricName, subject: MetricSubject): void {
  const allowed = METRICS[metric].subjects;
  for (const part of ['runId', 'deviceId', 'link'] as const) {
    const v = subject[part];
    if (v === undefined) continue;
    if (!allowed.includes(part)) throw new InvalidInputError(`${metric} is not measured per ${part === 'runId' ? 'run' : part === 'deviceId' ? 'device' : 'link'}`);
    if (typeof v !== 'string' || v.length === 0 || v.length > 300) throw new InvalidInputError(`${part} must be 1-300 characters`);
  }
  if (subject.link !== undefined && !/^.+->.+$/.test(subject.link)) throw new InvalidInputError('link must be written <from>-><to>');
}
