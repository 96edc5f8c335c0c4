import type { MetricName, MetricSubject } from '@ddnn/contracts';
import type { ReadMemo } from '../metrics/metrics.service';

/**
 * The alert evaluator's one way to a metric's value: the latest value of `metric` for `subject` over the last
 * `windowMs`, null when there is nothing to measure. The metrics rollup's MetricsService implements it
 * (apps/api/src/monitoring/metrics); tests use a fake.
 */
export interface MetricReader {
  /** `memo`: lookups shared by the reads of one round (see ReadMemo). */
  latest(metric: MetricName, subject: MetricSubject, windowMs: number, referenceRunId?: string, memo?: ReadMemo): Promise<number | null>;
}

/** Injection token of the MetricReader the alerts module evaluates rules with. */
export const METRIC_READER = Symbol('METRIC_READER');
