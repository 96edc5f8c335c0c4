import type { AlertComparator, AlertMetric, AlertSeverity, CreateAlertRuleRequest } from '@ddnn/contracts';

const MINUTE = 60_000;

/** One default rule on a line: `fires` and `clears` as [comparator, threshold], times in minutes. */
interface DefaultRuleRow {
  key: string;
  name: string;
  metric: AlertMetric;
  scope: 'all-devices' | 'all-runs';
  fires: [AlertComparator, number];
  clears: [AlertComparator, number];
  forMinutes: number;
  windowMinutes: number;
  severity: AlertSeverity;
  description: string;
}

/**
 * The rules a new install has (created once, on first start; an operator may edit or delete them). Thresholds:
 * the default model answers ~90% of the default dataset correctly and exits ~all samples locally, so a 10-point
 * drop of the estimate or a 15-point drop of the local exit rate is a real degradation, not noise. One camera whose
 * view degrades barely moves the fused answer (the others carry it), so each device's own signal is watched too:
 * how often its argmax is the class most of the other devices name, against its own share in the reference run,
 * read at the top of its 95% interval (a drop the samples make certain). A camera that sees noise or a blocked
 * lens stops agreeing with its peers (to chance, a 30-50 point drop); a poor but healthy view is compared with
 * itself, so it never counts against it.
 */
const ROWS: DefaultRuleRow[] = [
  {
    key: 'device-inactive', name: 'Device inactive', metric: 'device_inactive', scope: 'all-devices',
    fires: ['>=', 1], clears: ['<', 1], forMinutes: 1, windowMinutes: 1, severity: 'major',
    description: 'A registered device has been inactive or disconnected for a minute.',
  },
  {
    key: 'device-miss-rate-high', name: 'Device miss rate high', metric: 'device_miss_rate', scope: 'all-devices',
    fires: ['>', 0.2], clears: ['<', 0.1], forMinutes: 2, windowMinutes: 5, severity: 'warning',
    description:
      "More than 20% of the requests to a device missed (timeouts, disconnects, errors, invalid replies) over 5 minutes. Captures it skipped are not misses (skipped_captures counts them; a failing source is the device's problem on its page).",
  },
  {
    key: 'device-view-degraded', name: 'Device view degraded', metric: 'peer_agreement_drift', scope: 'all-devices',
    fires: ['<', -0.15], clears: ['>', -0.05], forMinutes: 2, windowMinutes: 5, severity: 'major',
    description:
      "A device agrees with the other devices at least 15 points less often than it did in the reference run (certainly so, given the samples): its camera's view has degraded (noise, occlusion, misalignment) even if the fleet's answer holds.",
  },
  {
    key: 'samples-unanswered', name: 'Samples without an answer', metric: 'unanswered_rate', scope: 'all-runs',
    fires: ['>', 0.1], clears: ['<', 0.03], forMinutes: 2, windowMinutes: 5, severity: 'major',
    description:
      "More than 10% of a run's samples ended without an answer over 5 minutes: its cameras are not answering (dark, disconnected, timing out), or none delivers its features when the local exit is unsure.",
  },
  {
    key: 'local-exit-rate-dropped', name: 'Local exit rate dropped', metric: 'local_exit_rate_drift', scope: 'all-runs',
    fires: ['<', -0.15], clears: ['>', -0.05], forMinutes: 2, windowMinutes: 5, severity: 'warning',
    description: "A run's local exit rate is 15 points below its reference run's: the devices are less sure (more traffic to the cloud).",
  },
  {
    key: 'estimated-accuracy-dropped', name: 'Estimated accuracy dropped', metric: 'accuracy_estimated', scope: 'all-runs',
    fires: ['<', 0.8], clears: ['>=', 0.85], forMinutes: 1, windowMinutes: 2, severity: 'major',
    description: "A run's estimated accuracy (no labels needed) fell below 80%.",
  },
];

function defaultRule(r: DefaultRuleRow): { key: string; rule: CreateAlertRuleRequest } {
  return {
    key: r.key,
    rule: {
      name: r.name,
      description: r.description,
      metric: r.metric,
      scope: { kind: r.scope },
      condition: { comparator: r.fires[0], threshold: r.fires[1] },
      forMs: r.forMinutes * MINUTE,
      clear: { comparator: r.clears[0], threshold: r.clears[1] },
      windowMs: r.windowMinutes * MINUTE,
      severity: r.severity,
    },
  };
}

export const DEFAULT_ALERT_RULES: readonly { key: string; rule: CreateAlertRuleRequest }[] = ROWS.map(defaultRule);
