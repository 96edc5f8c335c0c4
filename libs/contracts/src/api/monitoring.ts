/**
 * Metrics over time (issue 17): names, subjects, queries and series. Every metric is read from the rollup the
 * metrics projection keeps (per-minute and hourly buckets of each run's events, per device and per link), so a
 * metric means the same on a chart, in an alert rule and in the REST API.
 */
import type { ExitTier, MissReason } from '../events/catalogue';
import type { MissTally } from '../events/misses';
import type { StreamGapTotals } from '../events/projections';

/** Every metric the platform computes over time. A closed union: rules and queries name one of these. */
export const METRIC_NAMES = [
  'samples_per_second',
  'unanswered_rate',
  'exit_rate_local',
  'exit_rate_edge',
  'exit_rate_cloud',
  'entropy_p50_local',
  'entropy_p95_local',
  'entropy_p50_edge',
  'entropy_p95_edge',
  'entropy_p50_cloud',
  'entropy_p95_cloud',
  'bytes_per_second',
  'device_latency_p50',
  'device_latency_p95',
  'device_miss_rate',
  'miss_rate_timeout',
  'miss_rate_disconnected',
  'miss_rate_error',
  'miss_rate_invalid',
  'skipped_captures',
  'accuracy_labelled',
  'accuracy_labelled_local',
  'accuracy_labelled_edge',
  'accuracy_labelled_cloud',
  'accuracy_estimated',
  'accuracy_estimated_local',
  'accuracy_estimated_edge',
  'accuracy_estimated_cloud',
  'device_agreement',
  'peer_agreement',
  'peer_agreement_drift',
  'local_exit_rate_drift',
  'entropy_drift',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export function isMetricName(value: unknown): value is MetricName {
  return typeof value === 'string' && (METRIC_NAMES as readonly string[]).includes(value);
}

/**
 * What a metric is measured over. All absent: the whole fleet (every run). `runId` narrows to one session or
 * stream; `deviceId` to one end device (its sections, misses, agreement, latency); `link` to one link of the
 * hierarchy, written `<from>-><to>` with the node ids of the link messages (device id, edge name, `local`, `cloud`).
 */
export interface MetricSubject {
  runId?: string;
  deviceId?: string;
  link?: string;
}

/** The link subject of a transfer (`linkId('dev-1', 'local')` = `dev-1->local`). */
export function linkId(from: string, to: string): string {
  return `${from}->${to}`;
}

export type MetricUnit =
  /** Events per second, averaged over the step. */
  | 'per_second'
  /** A fraction in [0, 1] (rates, accuracies, agreement). */
  | 'ratio'
  /** Normalized entropy in [0, 1]. */
  | 'entropy'
  | 'bytes_per_second'
  | 'milliseconds'
  /** Skipped captures per minute. */
  | 'per_minute'
  /** Signed difference of two ratios (current minus reference). */
  | 'ratio_delta'
  /** Population stability index of a distribution against the reference (0 = same; > 0.25 = shifted). */
  | 'psi';

/** Which subject parts a metric can be narrowed by (a device-only metric still accepts a runId). */
export type SubjectPart = 'runId' | 'deviceId' | 'link';

export interface MetricDefinition {
  label: string;
  unit: MetricUnit;
  /** Subject parts the metric understands; other parts are rejected (400), not silently ignored. */
  subjects: readonly SubjectPart[];
  /** True for estimates: their points carry `low`/`high`. */
  interval: boolean;
  /** Needs a labelled reference run (the estimate's calibration, the drift's baseline). */
  reference: boolean;
  description: string;
}

const RUN: readonly SubjectPart[] = ['runId'];
const RUN_DEVICE: readonly SubjectPart[] = ['runId', 'deviceId'];

type ExitMetric<T extends ExitTier> =
  `${'exit_rate' | 'entropy_p50' | 'entropy_p95' | 'accuracy_labelled' | 'accuracy_estimated'}_${T}`;

function exitDefs<T extends ExitTier>(tier: T): Record<ExitMetric<T>, MetricDefinition> {
  // Computed template keys widen to string: the cast restores the five names listed here.
  return {
    [`exit_rate_${tier}`]: {
      label: `Exit rate (${tier})`,
      unit: 'ratio',
      subjects: RUN,
      interval: false,
      reference: false,
      description: `Share of decided samples answered at the ${tier} exit.`,
    },
    [`entropy_p50_${tier}`]: {
      label: `Entropy p50 (${tier})`,
      unit: 'entropy',
      subjects: RUN,
      interval: false,
      reference: false,
      description: `Median normalized entropy at the ${tier} exit check, over every sample that reached it.`,
    },
    [`entropy_p95_${tier}`]: {
      label: `Entropy p95 (${tier})`,
      unit: 'entropy',
      subjects: RUN,
      interval: false,
      reference: false,
      description: `95th percentile of the normalized entropy at the ${tier} exit check.`,
    },
    [`accuracy_labelled_${tier}`]: {
      label: `Accuracy, labelled (${tier})`,
      unit: 'ratio',
      subjects: RUN,
      interval: false,
      reference: false,
      description: `Correct / labelled among samples answered at the ${tier} exit.`,
    },
    [`accuracy_estimated_${tier}`]: {
      label: `Accuracy, estimated (${tier})`,
      unit: 'ratio',
      subjects: RUN,
      interval: true,
      reference: true,
      description: `Confidence-based estimate (CBPE) of the ${tier} exit's accuracy on its answered samples, calibrated on the reference run.`,
    },
  } as Record<ExitMetric<T>, MetricDefinition>;
}

function missDef(reason: Exclude<MissReason, 'skipped'>): MetricDefinition {
  return {
    label: `Miss rate (${reason})`,
    unit: 'ratio',
    subjects: RUN_DEVICE,
    interval: false,
    reference: false,
    description: `Device requests missed for reason "${reason}", over the device requests with a capture (skipped captures are counted apart).`,
  };
}

export const METRICS: Record<MetricName, MetricDefinition> = {
  samples_per_second: {
    label: 'Samples per second',
    unit: 'per_second',
    subjects: RUN,
    interval: false,
    reference: false,
    description: 'Samples started per second.',
  },
  unanswered_rate: {
    label: 'Unanswered samples',
    unit: 'ratio',
    subjects: RUN,
    interval: false,
    reference: false,
    description:
      'Share of finished samples that ended without an answer (SampleUnanswered): no device answered them, or none delivered its features past an unsure local exit. Cameras going dark raise it before accuracy can say anything.',
  },
  ...exitDefs('local'),
  ...exitDefs('edge'),
  ...exitDefs('cloud'),
  bytes_per_second: {
    label: 'Bytes per second',
    unit: 'bytes_per_second',
    subjects: ['runId', 'deviceId', 'link'],
    interval: false,
    reference: false,
    description: 'Counted (non-shadow) bytes sent per second; by link, or by what a device sent.',
  },
  device_latency_p50: {
    label: 'Device latency p50',
    unit: 'milliseconds',
    subjects: RUN_DEVICE,
    interval: false,
    reference: false,
    description: 'Median latency of device sections that answered.',
  },
  device_latency_p95: {
    label: 'Device latency p95',
    unit: 'milliseconds',
    subjects: RUN_DEVICE,
    interval: false,
    reference: false,
    description: '95th percentile latency of device sections that answered.',
  },
  device_miss_rate: {
    label: 'Device miss rate',
    unit: 'ratio',
    subjects: RUN_DEVICE,
    interval: false,
    reference: false,
    description: 'Device requests missed (timeout, disconnected, error, invalid) over the device requests with a capture; skipped captures (nothing captured, or too stale) are counted apart (skipped_captures).',
  },
  miss_rate_timeout: missDef('timeout'),
  miss_rate_disconnected: missDef('disconnected'),
  miss_rate_error: missDef('error'),
  miss_rate_invalid: missDef('invalid'),
  skipped_captures: {
    label: 'Skipped captures',
    unit: 'per_minute',
    subjects: RUN_DEVICE,
    interval: false,
    reference: false,
    description: 'Captures a device skipped (busy, stale frame, failing source), per minute.',
  },
  accuracy_labelled: {
    label: 'Accuracy, labelled',
    unit: 'ratio',
    subjects: RUN,
    interval: false,
    reference: false,
    description: 'Correct / labelled among decided samples whose label is known (at start, or posted later).',
  },
  accuracy_estimated: {
    label: 'Accuracy, estimated',
    unit: 'ratio',
    subjects: RUN,
    interval: true,
    reference: true,
    description:
      'Confidence-based estimate (CBPE) of the accuracy of the answered samples, without labels: calibrated on the labelled reference run per exit, predicted class and device agreement; its 95% interval holds the sampling spread of the samples and the calibration\'s own error.',
  },
  device_agreement: {
    label: 'Device agreement',
    unit: 'ratio',
    subjects: RUN_DEVICE,
    interval: false,
    reference: false,
    description: "Share of decided samples where the device's own argmax equals the fused decision.",
  },
  peer_agreement: {
    label: 'Peer agreement',
    unit: 'ratio',
    subjects: RUN_DEVICE,
    interval: false,
    reference: false,
    description:
      "Share of decided samples where the device's own argmax is the class most of the other answering devices named (samples where they tie are left out); for a run, over all its devices.",
  },
  peer_agreement_drift: {
    label: 'Peer agreement drift',
    unit: 'ratio_delta',
    subjects: RUN_DEVICE,
    interval: false,
    reference: true,
    description:
      "A device's peer agreement minus its own in the reference run, taken at the top of the 95% interval of that difference: the drop the samples make certain (0 or more when there is none). No value over fewer than 30 samples, or for a device the reference lacks. A camera whose view degrades stops agreeing with its peers while the fused answer may hold.",
  },
  local_exit_rate_drift: {
    label: 'Local exit rate drift',
    unit: 'ratio_delta',
    subjects: RUN,
    interval: false,
    reference: true,
    description: 'Local exit rate minus the reference run\'s local exit rate.',
  },
  entropy_drift: {
    label: 'Entropy drift',
    unit: 'psi',
    subjects: RUN_DEVICE,
    interval: false,
    reference: true,
    description:
      "PSI of the entropy distribution against the reference run: the local exit's, or the device section's for a device.",
  },
};

/**
 * GET /api/metrics/totals: what a run counted over a window, from the per-minute rollup (hourly past
 * TOTALS_HOURLY_FROM_MS): a window of a long stream holds more events than a page can read, its totals do not.
 */
export interface RunWindowTotals {
  runId: string;
  /** The window read, widened to the rollup's whole buckets. */
  from: number;
  to: number;
  /** Samples started, decided (answered at an exit), and ended without an answer. */
  samples: number;
  decided: number;
  unanswered: number;
  /** Decided samples by the exit that answered them. */
  exits: Record<ExitTier, number>;
  /** Decided samples with a known label, and those predicted right. */
  labelled: number;
  correct: number;
  /** Counted bytes and messages on every link. */
  bytes: number;
  messages: number;
  /**
   * Device requests answered in time, missed, and not captured (skipped captures: the device had nothing to score), as
   * a device's own log counts them (missTally): `missed` and `missRate` leave skipped captures out.
   */
  misses: MissTally;
  /** The stream's gaps logged in the window (StreamGap: a gap is logged as it ends); zeros for a session. */
  gaps: StreamGapTotals;
}
/** Totals over windows this long or longer read the hourly rollup (a month of minutes is 44,640 rows). */
export const TOTALS_HOURLY_FROM_MS = 2 * 86_400_000;

/** GET /api/metrics: one metric, one subject, a time window. */
export interface MetricQuery {
  metric: MetricName;
  subject: MetricSubject;
  /** Window, epoch milliseconds, `from` inclusive, `to` exclusive. */
  from: number;
  to: number;
  /**
   * Point spacing in ms, a multiple of one minute; chosen from the window when absent. Steps of an hour or more
   * read the hourly rollup. A query holds at most MAX_METRIC_POINTS points.
   */
  step?: number;
  /**
   * The labelled run that calibrates estimates and is the drift baseline. Absent: the latest completed run
   * (session or stopped stream) of the subject run's model that has labels; for a device, one it took part in.
   * Calibrate on data the model did not train on: its training samples make it look better calibrated than it is.
   */
  referenceRunId?: string;
}

export const METRIC_STEP_MINUTE = 60_000;
export const METRIC_STEP_HOUR = 3_600_000;
/** Enough for a 7-day chart at one-minute resolution (10,080 points). */
export const MAX_METRIC_POINTS = 11_000;
/** The longest window a query may span. */
export const MAX_METRIC_WINDOW_MS = 31 * 24 * METRIC_STEP_HOUR;

export interface MetricPoint {
  /** Start of the step, epoch ms. */
  t: number;
  /** Null when the step holds nothing to measure (no samples, no requests). */
  value: number | null;
  /** Estimates only: a 95% interval around value. */
  low?: number;
  high?: number;
  /** What the value was computed from (samples, requests, bytes messages...), for weighting and tooltips. */
  n: number;
}

export interface MetricSeries {
  metric: MetricName;
  subject: MetricSubject;
  unit: MetricUnit;
  from: number;
  to: number;
  step: number;
  /** One per step in [from, to), empty steps included with value null. */
  points: MetricPoint[];
  /** The reference run an estimate or drift used (null when none was found: values are then null). */
  reference?: { runId: string; samples: number } | null;
}

/** GET /api/metrics/latest?metric=&runId=&deviceId=&link=&window= */
export interface MetricLatestResponse {
  metric: MetricName;
  subject: MetricSubject;
  windowMs: number;
  value: number | null;
}

/** A device's link over time, for the device page (GET /api/metrics/connectivity?deviceId=&from=&to=). */
export type ConnectivityState = 'connected' | 'disconnected' | 'inactive' | 'unknown';
export interface ConnectivitySpan {
  state: ConnectivityState;
  from: number;
  to: number;
  /** Why it went (DeviceDisconnected.reason), for disconnected spans. */
  reason?: string;
}
export interface ConnectivityTimeline {
  deviceId: string;
  from: number;
  to: number;
  spans: ConnectivitySpan[];
}
