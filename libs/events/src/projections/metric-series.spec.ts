import type { MetricName } from '@ddnn/contracts';
import { mergeHistograms } from '@ddnn/policies';
import type { RollupCell } from './metrics-rollup-fold';
import { AGREEMENT_DRIFT_MIN_SAMPLES, estimateExits, estimateSeries, metricValue, referenceModel, seriesPoints } from './metric-series';

describe('peer agreement drift', () => {
  const reference = referenceModel('ref', { labelled: 400 }, { peerAgree: 320, peerAgreeN: 400 });
  const drift = (peerAgree: number, peerAgreeN: number, ref = reference) => metricValue('peer_agreement_drift', { peerAgree, peerAgreeN }, 60_000, ref, true);

  it("is the device's peer agreement minus its own in the reference, at the top of the difference's 95% interval", () => {
    const n = 200;
    const p = (k: number, t: number) => ((k + 1) / (t + 2)) * (1 - (k + 1) / (t + 2)) / t;
    expect(drift(n / 2, n).value).toBeCloseTo(0.5 - 0.8 + 1.96 * Math.sqrt(p(n / 2, n) + p(320, 400)));
    // The same share as the reference: above 0 (no drop is certain); a drop of 30 points on 200 samples: certain.
    expect(drift(160, 200).value!).toBeGreaterThan(0);
    expect(drift(100, 200).value!).toBeLessThan(-0.15);
    // The same drop on 30 samples is less certain: it reads smaller.
    expect(drift(15, 30).value!).toBeGreaterThan(drift(100, 200).value!);
  });

  it('has no value over a handful of samples, for a device the reference lacks, or without a reference', () => {
    expect(drift(0, AGREEMENT_DRIFT_MIN_SAMPLES - 1)).toEqual({ value: null, n: AGREEMENT_DRIFT_MIN_SAMPLES - 1 });
    expect(drift(10, 100, referenceModel('ref', { labelled: 100, peerAgree: 50, peerAgreeN: 100 }, null)).value).toBeNull();
    expect(drift(10, 100, null as never).value).toBeNull();
  });
});

describe('accuracy estimate series from stored histogram texts', () => {
  // Two runs' rows per bucket, some buckets empty or missing an exit, steps of one and of several buckets.
  const hist = (seed: number, n: number) => {
    const h: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const key = `${(seed + i) % 3}:${(seed * i) % 7 === 0 ? 0 : 1}:${30 + ((seed * 13 + i * 7) % 20)}`;
      h[key] = (h[key] ?? 0) + 1;
    }
    return h;
  };
  const rows: { bucket: number; cell: RollupCell }[] = [];
  for (let b = 0; b < 12; b++) {
    if (b === 4) continue;
    for (const run of [0, 1]) rows.push({ bucket: b * 60_000, cell: { confidence: { local: hist(b * 2 + run, 40), ...(b % 3 ? { cloud: hist(b + run + 5, 10) } : {}) } } });
  }
  const labelled = { local: hist(100, 400), cloud: hist(101, 200) };
  const correct = { local: Object.fromEntries(Object.entries(labelled.local).map(([k, v]) => [k, Math.floor(v * 0.8)])), cloud: Object.fromEntries(Object.entries(labelled.cloud).map(([k, v]) => [k, Math.floor(v * 0.6)])) };
  const reference = referenceModel('ref', { confidenceLabelled: labelled, confidenceCorrect: correct, labelled: 600 });

  it('equals the series of the parsed cells, for any step, with or without a reference', () => {
    for (const metric of ['accuracy_estimated', 'accuracy_estimated_local', 'accuracy_estimated_cloud', 'accuracy_estimated_edge'] as MetricName[]) {
      const exits = estimateExits(metric) ?? [];
      for (const step of [60_000, 180_000, 720_000]) {
        for (const ref of [reference, null]) {
          // seriesPoints sums a bucket's rows into one cell; the texts arrive a row at a time.
          const merged = new Map<number, RollupCell[]>();
          for (const r of rows) merged.set(r.bucket, [...(merged.get(r.bucket) ?? []), r.cell]);
          const parsed = seriesPoints(metric, [...merged].map(([bucket, cells]) => ({ bucket, cell: { confidence: Object.fromEntries(exits.map((e) => [e, mergeHistograms(cells.map((c) => c.confidence?.[e]))])) } })), 0, 720_000, step, ref);
          const series = estimateSeries(metric, 0, 720_000, step, ref);
          for (const r of rows) series.add(r.bucket, exits.map((e) => (r.cell.confidence?.[e] ? JSON.stringify(r.cell.confidence[e]) : null)));
          const scanned = series.points();
          expect(scanned.map((p) => [p.t, p.n, p.value === null])).toEqual(parsed.map((p) => [p.t, p.n, p.value === null]));
          scanned.forEach((p, i) => (['value', 'low', 'high'] as const).forEach((k) => expect(p[k] ?? 0).toBeCloseTo(parsed[i][k] ?? 0, 12)));
        }
      }
    }
    expect(estimateExits('samples_per_second')).toBeNull();
  });
});

describe('device miss rates', () => {
  // 20 requests: 12 answered, 8 missed (2 timeouts, 1 invalid, 5 skipped captures: nothing captured).
  const cell: RollupCell = { answered: 12, missed: 8, missedBy: { timeout: 2, invalid: 1, skipped: 5 } };
  const value = (metric: MetricName) => metricValue(metric, cell, 60_000, null, true).value;

  it('count the requests the device had a capture for: skipped captures are the camera\'s, counted apart', () => {
    expect(value('device_miss_rate')).toBeCloseTo(3 / 15);
    expect(value('miss_rate_timeout')).toBeCloseTo(2 / 15);
    expect(value('miss_rate_invalid')).toBeCloseTo(1 / 15);
    expect(value('miss_rate_timeout')! + value('miss_rate_invalid')!).toBeCloseTo(value('device_miss_rate')!);
    expect(value('skipped_captures')).toBe(5);
  });

  it('have no value when every request was a skipped capture', () => {
    expect(metricValue('device_miss_rate', { answered: 0, missed: 4, missedBy: { skipped: 4 } }, 60_000, null, true).value).toBeNull();
  });
});

describe('rates of the step that is still going on', () => {
  // A steady 2 samples/s: minute 0 whole (120 samples), minute 1 30 s in (60 samples so far).
  const buckets = [
    { bucket: 0, cell: { samples: 120 } },
    { bucket: 60_000, cell: { samples: 60 } },
  ];

  it('are over the time up to now, and a step not begun has no value', () => {
    const points = seriesPoints('samples_per_second', buckets, 0, 180_000, 60_000, null, false, 90_000);
    expect(points.map((p) => p.value)).toEqual([2, 2, null]);
    // One step over the whole window (a rule's latest value): 180 samples in 90 s.
    expect(seriesPoints('samples_per_second', buckets, 0, 120_000, 120_000, null, false, 90_000)[0].value).toBe(2);
    // A step seconds old has no value yet, and keeps its count.
    expect(seriesPoints('samples_per_second', buckets, 0, 120_000, 60_000, null, false, 65_000).map((p) => [p.value, p.n])).toEqual([[2, 120], [null, 60]]);
    // Without a now (a window in the past), every step is whole.
    expect(seriesPoints('samples_per_second', buckets, 0, 120_000, 60_000, null).map((p) => p.value)).toEqual([2, 1]);
  });

  it('per minute too; ratios do not depend on time', () => {
    const skipped = [{ bucket: 0, cell: { missedBy: { skipped: 30 }, decided: 8, unanswered: 2 } }];
    expect(seriesPoints('skipped_captures', skipped, 0, 60_000, 60_000, null, false, 30_000)[0].value).toBe(60);
    expect(seriesPoints('unanswered_rate', skipped, 0, 60_000, 60_000, null, false, 30_000)[0].value).toBe(0.2);
    // A run that began seconds ago has its ratios at once (a chart of a run so far drew no line for 10 s: CI browser).
    expect(seriesPoints('unanswered_rate', skipped, 0, 60_000, 60_000, null, false, 3_000)[0].value).toBe(0.2);
    expect(seriesPoints('skipped_captures', skipped, 0, 60_000, 60_000, null, false, 3_000)[0]).toMatchObject({ value: null, n: 30 });
  });
});
