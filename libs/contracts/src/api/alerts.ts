/**
 * Alert rules, alerts and their webhooks (issue 17). A rule watches one metric for a run, a device, every running
 * run or every device; an alert is one rule's state for one subject. States follow Grafana's: pending while the
 * condition holds for less than `forMs`, firing after, resolved when the clear condition holds. Every change of
 * state is an event in the stream `alert-<ruleId>` (libs/contracts/src/events/catalogue.ts).
 */
import type { AlertSubjectRef } from '../events/catalogue';
import type { MetricName } from './monitoring';

/** ThingsBoard's severities, most urgent first. */
export const ALERT_SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * A metric a rule can watch: any metric of the rollup, or `device_inactive` (1 while a device is inactive or
 * disconnected, 0 while active, no data before its first connection), read from the device status projection.
 */
export type AlertMetric = MetricName | 'device_inactive';

export const ALERT_COMPARATORS = ['>', '>=', '<', '<='] as const;
export type AlertComparator = (typeof ALERT_COMPARATORS)[number];

export interface AlertThreshold {
  comparator: AlertComparator;
  threshold: number;
}

/** True when `value` meets the threshold (the one comparison every evaluator, API and dashboard, uses). */
export function meetsThreshold(value: number, t: AlertThreshold): boolean {
  switch (t.comparator) {
    case '>':
      return value > t.threshold;
    case '>=':
      return value >= t.threshold;
    case '<':
      return value < t.threshold;
    case '<=':
      return value <= t.threshold;
  }
}

/** What a rule watches: one run (session or stream), every running run, one device, or every registered device. */
export type AlertScope =
  | { kind: 'run'; runId: string }
  | { kind: 'all-runs' }
  | { kind: 'device'; deviceId: string }
  | { kind: 'all-devices' };
export const ALERT_SCOPE_KINDS = ['run', 'all-runs', 'device', 'all-devices'] as const;

/** A rule as stored and as logged in AlertRuleCreated/Updated. */
export interface AlertRuleSpec {
  name: string;
  description: string;
  metric: AlertMetric;
  scope: AlertScope;
  /** The alert becomes pending when this holds... */
  condition: AlertThreshold;
  /** ...and fires once it held this long (0: at once). */
  forMs: number;
  /** A firing alert resolves when this holds (hysteresis: usually a little inside the condition). */
  clear: AlertThreshold;
  /** The metric is read over the last `windowMs` (its latest value over that window). */
  windowMs: number;
  severity: AlertSeverity;
  /** A disabled rule is not evaluated; its open alerts resolve. */
  enabled: boolean;
}

/** POST /api/alert-rules. `clear` defaults to the negation of the condition; `windowMs` to 5 minutes. */
export interface CreateAlertRuleRequest {
  name: string;
  description?: string;
  metric: AlertMetric;
  scope: AlertScope;
  condition: AlertThreshold;
  forMs: number;
  clear?: AlertThreshold;
  windowMs?: number;
  severity: AlertSeverity;
  enabled?: boolean;
}

export interface AlertRuleView extends AlertRuleSpec {
  id: string;
  /** Key of the built-in default this rule was created from (`device-inactive`...), null for operators' rules. */
  defaultKey: string | null;
  /** Pending and firing alerts of this rule now. */
  openAlerts: number;
  createdAt: string;
  updatedAt: string;
}

export type AlertState = 'pending' | 'firing' | 'resolved';
export type AlertResolveReason = 'cleared' | 'condition-gone' | 'subject-gone' | 'rule-deleted' | 'rule-disabled';

export interface AlertView {
  id: string;
  ruleId: string;
  /** The rule as it is now (its name at the time the alert closed when it was deleted since). */
  ruleName: string;
  metric: AlertMetric;
  severity: AlertSeverity;
  subject: AlertSubjectRef;
  /** `run:<id>`, `device:<id>`: one open alert per rule and subjectKey. */
  subjectKey: string;
  /** The device's name, when the subject is a device that still exists. */
  subjectName: string | null;
  state: AlertState;
  /** The latest value the evaluator read. */
  value: number | null;
  condition: AlertThreshold;
  pendingSince: string;
  firedAt: string | null;
  resolvedAt: string | null;
  resolvedReason: AlertResolveReason | null;
  acknowledgedAt: string | null;
  ackNote: string | null;
  /** Notifications are muted until then (null: not silenced). */
  silencedUntil: string | null;
  lastEvaluatedAt: string;
}

/** GET /api/alerts?state=open|pending|firing|resolved&ruleId=&deviceId=&runId=&limit=&offset= */
export interface AlertListQuery {
  state?: AlertListState;
  ruleId?: string;
  deviceId?: string;
  runId?: string;
  limit?: number;
  offset?: number;
}
export interface AlertListResponse {
  items: AlertView[];
  total: number;
}
export const ALERT_LIST_STATES = ['open', 'pending', 'firing', 'resolved'] as const;
export type AlertListState = (typeof ALERT_LIST_STATES)[number];

/** POST /api/alerts/:id/acknowledge */
export interface AcknowledgeAlertRequest {
  note?: string;
}
/** POST /api/alerts/:id/silence: `until` an ISO time (a past time lifts the silence). */
export interface SilenceAlertRequest {
  until: string;
}

/** POST /api/webhooks. Notifications go to enabled webhooks whose minSeverity the alert meets. */
export interface CreateWebhookRequest {
  name: string;
  /** http:// or https://, no user or password in it. */
  url: string;
  /** Least severe alert sent (default `warning`: all). */
  minSeverity?: AlertSeverity;
  enabled?: boolean;
}
export interface WebhookView {
  id: string;
  name: string;
  url: string;
  minSeverity: AlertSeverity;
  enabled: boolean;
  createdAt: string;
}
/** The signing secret is shown once, in this response. */
export interface WebhookCreatedResponse extends WebhookView {
  secret: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';
export interface WebhookAttemptView {
  attempt: number;
  at: string;
  /** The receiver's HTTP status; null when no response came (refused, timed out). */
  httpStatus: number | null;
  error: string | null;
  durationMs: number;
}
export interface WebhookDeliveryView {
  id: string;
  webhookId: string;
  alertId: string;
  event: AlertNotificationEvent;
  status: WebhookDeliveryStatus;
  attempts: WebhookAttemptView[];
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}
/** GET /api/webhooks/:id/deliveries?limit=&offset= */
export interface WebhookDeliveryListResponse {
  items: WebhookDeliveryView[];
  total: number;
}

export type AlertNotificationEvent = 'alert.firing' | 'alert.resolved';
/**
 * The body POSTed to a webhook. Headers: `X-DDNN-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the
 * webhook's secret>`, `X-DDNN-Delivery: <delivery id>` (the same on every retry: deduplicate on it), `X-DDNN-Event`.
 */
export interface AlertNotification {
  event: AlertNotificationEvent;
  deliveryId: string;
  /** When the state changed (ISO). */
  at: string;
  alert: AlertView;
  rule: { id: string; name: string; metric: AlertMetric; scope: AlertScope; condition: AlertThreshold; clear: AlertThreshold; forMs: number };
}

/** Header names of a webhook notification. */
export const WEBHOOK_HEADERS = {
  signature: 'x-ddnn-signature-256',
  delivery: 'x-ddnn-delivery',
  event: 'x-ddnn-event',
} as const;
