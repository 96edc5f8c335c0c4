import type { MetricReader } from './metric-reader';

/**
 * The MetricReader until the metrics rollup's MetricsService is bound to METRIC_READER: no rollup metric has
 * data, so rules over them stay quiet (never fire, never clear) while device_inactive rules work.
 */
export class NoRollupMetricReader implements MetricReader {
  latest(): Promise<number | null> {
    return Promise.resolve(null);
  }
}
