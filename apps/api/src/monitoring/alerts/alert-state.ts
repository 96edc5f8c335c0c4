import { type AlertResolveReason, type AlertRuleSpec, meetsThreshold } from '@ddnn/contracts';

/** What the evaluator knows of a subject's open alert (none, pending or firing). */
export interface OpenAlertState {
  state: 'pending' | 'firing';
  /** Epoch ms the condition started holding. */
  pendingSince: number;
}

/** The one thing an evaluation does to a rule's alert for one subject. */
export type AlertTransition =
  | { kind: 'none' }
  /** The open alert stays as it is; its latest value is recorded (no event). */
  | { kind: 'touch' }
  | { kind: 'open'; state: 'pending' | 'firing' }
  | { kind: 'fire' }
  | { kind: 'resolve'; reason: AlertResolveReason };

/**
 * Grafana's rule states for one subject. The condition starts a pending alert, which fires once the condition
 * held for `forMs`; a pending alert whose condition stops holding closes unfired; a firing alert closes only when
 * the clear condition holds (hysteresis), and stays firing in between. No data (null) changes nothing: a metric
 * without samples neither fires nor clears an alert.
 */
export function nextTransition(
  open: OpenAlertState | null,
  value: number | null,
  rule: Pick<AlertRuleSpec, 'condition' | 'clear' | 'forMs'>,
  now: number,
): AlertTransition {
  if (value === null || !Number.isFinite(value)) return open ? { kind: 'touch' } : { kind: 'none' };
  const holds = meetsThreshold(value, rule.condition);
  if (!open) {
    if (!holds) return { kind: 'none' };
    return { kind: 'open', state: rule.forMs <= 0 ? 'firing' : 'pending' };
  }
  if (open.state === 'pending') {
    if (!holds) return { kind: 'resolve', reason: 'condition-gone' };
    return now - open.pendingSince >= rule.forMs ? { kind: 'fire' } : { kind: 'touch' };
  }
  return meetsThreshold(value, rule.clear) ? { kind: 'resolve', reason: 'cleared' } : { kind: 'touch' };
}
