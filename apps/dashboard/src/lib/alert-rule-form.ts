import {
  type AlertComparator,
  type AlertMetric,
  type AlertRuleView,
  type AlertScope,
  type AlertSeverity,
  type AlertThreshold,
  type CreateAlertRuleRequest,
  isUuid,
  METRIC_NAMES,
  METRICS,
} from '@ddnn/contracts';

/** The rule editor's fields, as strings the inputs hold (durations in seconds and minutes, as operators think). */
export interface AlertRuleForm {
  name: string;
  description: string;
  metric: AlertMetric;
  scopeKind: AlertScope['kind'];
  /** The run id or device id of a `run` or `device` scope. */
  scopeId: string;
  comparator: AlertComparator;
  threshold: string;
  forSeconds: string;
  clearComparator: AlertComparator;
  clearThreshold: string;
  windowMinutes: string;
  severity: AlertSeverity;
  enabled: boolean;
}

/** Every metric a rule can watch, with a label for the editor's select. */
export const ALERT_METRIC_OPTIONS: { value: AlertMetric; label: string }[] = [
  { value: 'device_inactive', label: 'Device inactive (1 inactive or disconnected, 0 active)' },
  ...METRIC_NAMES.map((m) => ({ value: m, label: METRICS[m].label })),
];

export const SCOPE_LABELS: Record<AlertScope['kind'], string> = {
  'all-devices': 'every device',
  device: 'one device',
  'all-runs': 'every running run',
  run: 'one run (session or stream)',
};

export function emptyRuleForm(): AlertRuleForm {
  return {
    name: '',
    description: '',
    metric: 'device_miss_rate',
    scopeKind: 'all-devices',
    scopeId: '',
    comparator: '>',
    threshold: '0.2',
    forSeconds: '120',
    clearComparator: '<',
    clearThreshold: '0.1',
    windowMinutes: '5',
    severity: 'warning',
    enabled: true,
  };
}

export function ruleToForm(rule: AlertRuleView): AlertRuleForm {
  return {
    name: rule.name,
    description: rule.description,
    metric: rule.metric,
    scopeKind: rule.scope.kind,
    scopeId: rule.scope.kind === 'run' ? rule.scope.runId : rule.scope.kind === 'device' ? rule.scope.deviceId : '',
    comparator: rule.condition.comparator,
    threshold: String(rule.condition.threshold),
    forSeconds: String(rule.forMs / 1000),
    clearComparator: rule.clear.comparator,
    clearThreshold: String(rule.clear.threshold),
    windowMinutes: String(rule.windowMs / 60_000),
    severity: rule.severity,
    enabled: rule.enabled,
  };
}

function num(value: string): number | null {
  if (value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Whether the metric is measured per device (else per run), so the editor offers the scopes that fit. */
export function measuredPerDevice(metric: AlertMetric): boolean {
  return metric === 'device_inactive' || METRICS[metric].subjects.includes('deviceId');
}
export function measuredPerRun(metric: AlertMetric): boolean {
  return metric !== 'device_inactive' && METRICS[metric].subjects.includes('runId');
}

/** The request the form describes, or the problems to show next to it (the API checks the same again). */
export function ruleFormRequest(f: AlertRuleForm): { ok: true; request: CreateAlertRuleRequest } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (!f.name.trim()) errors.name = 'a name is required';
  const threshold = num(f.threshold);
  if (threshold === null) errors.threshold = 'a number';
  const clear = num(f.clearThreshold);
  if (clear === null) errors.clearThreshold = 'a number';
  const forSeconds = num(f.forSeconds);
  if (forSeconds === null || forSeconds < 0 || forSeconds > 7 * 86_400) errors.forSeconds = '0 s to 7 days';
  const windowMinutes = num(f.windowMinutes);
  if (windowMinutes === null || windowMinutes < 1 || windowMinutes > 30 * 1440) errors.windowMinutes = '1 min to 30 days';
  let scope: AlertScope;
  const perDevice = f.scopeKind === 'device' || f.scopeKind === 'all-devices';
  if (perDevice && !measuredPerDevice(f.metric)) errors.scopeKind = 'this metric is measured per run';
  if (!perDevice && !measuredPerRun(f.metric)) errors.scopeKind = 'this metric is measured per device';
  if (f.scopeKind === 'run' || f.scopeKind === 'device') {
    if (!isUuid(f.scopeId.trim())) errors.scopeId = `the ${f.scopeKind} id (a UUID)`;
    scope = f.scopeKind === 'run' ? { kind: 'run', runId: f.scopeId.trim() } : { kind: 'device', deviceId: f.scopeId.trim() };
  } else scope = { kind: f.scopeKind };
  if (Object.keys(errors).length) return { ok: false, errors };
  const condition: AlertThreshold = { comparator: f.comparator, threshold: threshold as number };
  return {
    ok: true,
    request: {
      name: f.name.trim(),
      description: f.description.trim(),
      metric: f.metric,
      scope,
      condition,
      forMs: Math.round((forSeconds as number) * 1000),
      clear: { comparator: f.clearComparator, threshold: clear as number },
      windowMs: Math.round((windowMinutes as number) * 60_000),
      severity: f.severity,
      enabled: f.enabled,
    },
  };
}

/** `> 0.2 for 2 min` */
export function describeCondition(t: AlertThreshold, forMs?: number): string {
  const base = `${t.comparator} ${t.threshold}`;
  if (forMs === undefined) return base;
  return forMs === 0 ? `${base} (at once)` : `${base} for ${forMs % 60_000 === 0 ? `${forMs / 60_000} min` : `${forMs / 1000} s`}`;
}
