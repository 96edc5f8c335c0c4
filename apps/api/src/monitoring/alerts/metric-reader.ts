import type { MetricName, MetricSubject } from '@ddnn/contracts';

/**
 * The alert evaluator's one way to a metric's value: the latest value of `metric` for `subject` over the last
 * `windowMs`, null when there is nothing to measure. The metrics rollup's MetricsService implements it
 * (apps/api/src/monitoring/metrics); tests use a fake.
 */
export interface MetricReader {
  latest(metric: MetricName, subject: MetricSubject, windowMs: number): Promise<number | null>;
}

/** Injection token of the MetricReader the alerts module evaluates rules with. */
export const METRIC_READER = Symbol('METRIC_READER');
