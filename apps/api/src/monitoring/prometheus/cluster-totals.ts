import { answersSample, ALERT_SEVERITIES, MISS_REASONS, sampleSections, sampleTraffic, type SampleSections, type SampleTraffic, type StoredEvent } from '@ddnn/contracts';

/** Upper bounds (seconds) of the device latency histogram's buckets: a section answers in ms to seconds. */
export const DEVICE_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The cluster-wide counters and histograms of GET /metrics, folded from the log. Every label has a closed set of
 * values (tiers, payload kinds, miss reasons, severities, run kinds): never a sample, run or device id.
 */
export const CLUSTER_METRICS = {
  samples: { name: 'ddnn_samples_total', help: 'Samples started, by run kind (session or stream).', labels: { run_kind: ['session', 'stream'] } },
  exits: { name: 'ddnn_exits_total', help: 'Samples answered, by the exit tier that answered them.', labels: { tier: ['local', 'edge', 'cloud'] } },
  unanswered: {
    name: 'ddnn_samples_unanswered_total',
    help: 'Samples that ended without an answer (SampleUnanswered: nothing reached an exit that could answer), by run kind.',
    labels: { run_kind: ['session', 'stream'] },
  },
  bytes: { name: 'ddnn_transferred_bytes_total', help: 'Bytes sent between tiers (shadow traffic excluded), by payload kind.', labels: { kind: ['scores', 'features', 'raw'] } },
  misses: { name: 'ddnn_device_misses_total', help: 'Device answers that did not count, by reason.', labels: { reason: [...MISS_REASONS] } },
  alertsFired: { name: 'ddnn_alerts_fired_total', help: 'Alerts that fired, by severity.', labels: { severity: [...ALERT_SEVERITIES] } },
} as const;
/**
 * Latency of the sections devices answered on the live path: one histogram per kind of device, without labels
 * (text-format parsers and dashboards handle unlabelled histograms best; the kinds are two and fixed).
 */
export const LATENCY_HISTOGRAMS = {
  device: { name: 'ddnn_device_latency_seconds', help: 'Latency of the sections end devices answered (live path).' },
  edge: { name: 'ddnn_edge_latency_seconds', help: 'Latency of the sections edge devices answered (live path).' },
} as const;

/** Additions to prometheus_totals by series: the key is `<name> <labels as JSON, keys sorted>`. */
export type TotalsDelta = Map<string, number>;
export const totalsKey = (name: string, labels: Record<string, string>): string =>
  `${name} ${JSON.stringify(Object.fromEntries(Object.keys(labels).sort().map((k) => [k, labels[k]])))}`;
export function splitTotalsKey(key: string): { name: string; labels: Record<string, string> } {
  const i = key.indexOf(' ');
  return { name: key.slice(0, i), labels: JSON.parse(key.slice(i + 1)) as Record<string, string> };
}

/**
 * Series keys by name and label value: every label set here has at most one label from a closed set, so the keys
 * are few, and building one (sort, object, JSON) for each of a sample's events was most of the fold's time.
 */
const seriesKeys = new Map<string, Map<string, string>>();
const MAX_CACHED_VALUES = 64;
function seriesKey(name: string, label: string | null, value: string): string {
  let byValue = seriesKeys.get(name);
  if (!byValue) seriesKeys.set(name, (byValue = new Map()));
  let key = byValue.get(value);
  if (key !== undefined) return key;
  key = totalsKey(name, label === null ? {} : { [label]: value });
  // The sets are closed by the event schemas; a value outside them is counted, never allowed to grow the cache.
  if (byValue.size < MAX_CACHED_VALUES) byValue.set(value, key);
  return key;
}

/** Adds `by` to the series `name`, unlabelled (label null) or with one label. */
function add(into: TotalsDelta, name: string, label: string | null, value: string, by: number): void {
  const key = seriesKey(name, label, value);
  into.set(key, (into.get(key) ?? 0) + by);
}

/** Index of the first bucket whose bound holds `seconds` (DEVICE_LATENCY_BUCKETS.length: +Inf). */
export function bucketOf(seconds: number): number {
  const i = DEVICE_LATENCY_BUCKETS.findIndex((b) => seconds <= b);
  return i === -1 ? DEVICE_LATENCY_BUCKETS.length : i;
}

/**
 * What a batch of the log adds to the totals. Histogram buckets are stored per bucket (not cumulative) under
 * `<name>_bucket` with `le`, plus `<name>_sum` and `<name>_count`; GET /metrics accumulates them.
 */
export function foldTotals(events: readonly StoredEvent[], into: TotalsDelta = new Map()): TotalsDelta {
  for (const e of events) {
    switch (e.type) {
      case 'SampleStarted':
        add(into, CLUSTER_METRICS.samples.name, 'run_kind', e.streamId.startsWith('stream-') ? 'stream' : 'session', 1);
        break;
      case 'ExitDecided':
        if (answersSample(e.data)) add(into, CLUSTER_METRICS.exits.name, 'tier', e.data.tier, 1);
        break;
      case 'SampleUnanswered':
        add(into, CLUSTER_METRICS.unanswered.name, 'run_kind', e.streamId.startsWith('stream-') ? 'stream' : 'session', 1);
        break;
      case 'BytesTransferred':
      case 'MessagesTransferred':
        for (const m of (sampleTraffic(e) as SampleTraffic).messages) {
          if (!m.shadow && Number.isFinite(m.bytes)) add(into, CLUSTER_METRICS.bytes.name, 'kind', m.kind, m.bytes);
        }
        break;
      case 'DeviceMissed':
        add(into, CLUSTER_METRICS.misses.name, 'reason', e.data.reason, 1);
        break;
      case 'AlertFiring':
        add(into, CLUSTER_METRICS.alertsFired.name, 'severity', e.data.severity, 1);
        break;
      case 'SectionEvaluated':
      case 'SectionsEvaluated':
        for (const { tier, shadow, latencyMs } of (sampleSections(e) as SampleSections).sections) {
          if (shadow || (tier !== 'device' && tier !== 'edge') || !Number.isFinite(latencyMs) || latencyMs < 0) continue;
          const seconds = latencyMs / 1000;
          const b = bucketOf(seconds);
          const le = b === DEVICE_LATENCY_BUCKETS.length ? '+Inf' : String(DEVICE_LATENCY_BUCKETS[b]);
          const { name } = LATENCY_HISTOGRAMS[tier];
          add(into, `${name}_bucket`, 'le', le, 1);
          add(into, `${name}_sum`, null, '', seconds);
          add(into, `${name}_count`, null, '', 1);
        }
        break;
      default:
        break;
    }
  }
  return into;
}
