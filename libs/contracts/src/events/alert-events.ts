import type { AlertRuleSpec, AlertSeverity } from '../api/alerts';

/**
 * Alerting (apps/api/src/monitoring/alerts): a rule's life and every state change of its alerts, in the stream
 * `alert-<ruleId>` (kept forever, so alerts replay like everything else). The rule's shape is in
 * libs/contracts/src/api/alerts.ts; the events carry the whole rule as it was, so a replay needs no table.
 */
export interface AlertRuleCreated {
  ruleId: string;
  rule: AlertRuleSpec;
}
export interface AlertRuleUpdated {
  ruleId: string;
  rule: AlertRuleSpec;
}
export interface AlertRuleDeleted {
  ruleId: string;
}
/** What an alert is about: a run (session or stream), a device, or the platform (subjectKey `all`). */
export interface AlertSubjectRef {
  runId?: string;
  deviceId?: string;
}
interface AlertStateChange {
  alertId: string;
  ruleId: string;
  subject: AlertSubjectRef;
  severity: AlertSeverity;
  /** The metric's value that caused the change (null when the subject vanished). */
  value: number | null;
}
/** The condition holds; it must hold for the rule's `forMs` before the alert fires. */
export type AlertPending = AlertStateChange;
/** The condition held for `forMs` (or at once when `forMs` is 0): notifications go out. */
export type AlertFiring = AlertStateChange;
/**
 * The alert closed: the clear condition held after it fired, or the condition stopped holding before it fired
 * (`wasFiring` false), or the subject is gone, or the rule was deleted or disabled (`reason`).
 */
export interface AlertResolved extends AlertStateChange {
  wasFiring: boolean;
  reason: 'cleared' | 'condition-gone' | 'subject-gone' | 'rule-deleted' | 'rule-disabled';
}
export interface AlertAcknowledged {
  alertId: string;
  ruleId: string;
  note: string | null;
}
/** Notifications of this alert (and of the next one for the same rule and subject) are muted until `until`. */
export interface AlertSilenced {
  alertId: string;
  ruleId: string;
  /** ISO time; a time in the past lifts the silence. */
  until: string;
}
