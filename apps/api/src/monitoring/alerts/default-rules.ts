import type { CreateAlertRuleRequest } from '@ddnn/contracts';

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
export const DEFAULT_ALERT_RULES: readonly { key: string; rule: CreateAlertRuleRequest }[] = [
  {
    key: 'device-inactive',
    rule: {
      name: 'Device inactive',
      description: 'A registered device has been inactive or disconnected for a minute.',
      metric: 'device_inactive',
      scope: { kind: 'all-devices' },
      condition: { comparator: '>=', threshold: 1 },
      forMs: 60_000,
      clear: { comparator: '<', threshold: 1 },
      windowMs: 60_000,
      severity: 'major',
    },
  },
  {
    key: 'device-miss-rate-high',
    rule: {
      name: 'Device miss rate high',
      description: 'More than 20% of the requests to a device missed (timeouts, errors, invalid replies, skipped captures) over 5 minutes.',
      metric: 'device_miss_rate',
      scope: { kind: 'all-devices' },
      condition: { comparator: '>', threshold: 0.2 },
      forMs: 2 * 60_000,
      clear: { comparator: '<', threshold: 0.1 },
      windowMs: 5 * 60_000,
      severity: 'warning',
    },
  },
  {
    key: 'device-view-degraded',
    rule: {
      name: 'Device view degraded',
      description:
        "A device agrees with the other devices at least 15 points less often than it did in the reference run (certainly so, given the samples): its camera's view has degraded (noise, occlusion, misalignment) even if the fleet's answer holds.",
      metric: 'peer_agreement_drift',
      scope: { kind: 'all-devices' },
      condition: { comparator: '<', threshold: -0.15 },
      forMs: 2 * 60_000,
      clear: { comparator: '>', threshold: -0.05 },
      windowMs: 5 * 60_000,
      severity: 'major',
    },
  },
  {
    key: 'local-exit-rate-dropped',
    rule: {
      name: 'Local exit rate dropped',
      description: "A run's local exit rate is 15 points below its reference run's: the devices are less sure (more traffic to the cloud).",
      metric: 'local_exit_rate_drift',
      scope: { kind: 'all-runs' },
      condition: { comparator: '<', threshold: -0.15 },
      forMs: 2 * 60_000,
      clear: { comparator: '>', threshold: -0.05 },
      windowMs: 5 * 60_000,
      severity: 'warning',
    },
  },
  {
    key: 'estimated-accuracy-dropped',
    rule: {
      name: 'Estimated accuracy dropped',
      description: "A run's estimated accuracy (no labels needed) fell below 80%.",
      metric: 'accuracy_estimated',
      scope: { kind: 'all-runs' },
      condition: { comparator: '<', threshold: 0.8 },
      forMs: 60_000,
      clear: { comparator: '>=', threshold: 0.85 },
      windowMs: 2 * 60_000,
      severity: 'major',
    },
  },
];
