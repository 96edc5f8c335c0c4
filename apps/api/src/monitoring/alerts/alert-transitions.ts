import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { AlertResolveReason, AlertRuleSpec, AlertView } from '@ddnn/contracts';
import { inTransaction } from '@ddnn/events';
import { AlertLog } from './alert-log';
import { AlertNotifier } from './alert-notifier';
import type { AlertSubject } from './alert-subjects';
import { AlertsRepository } from './alerts.repository';

/**
 * Every change of an alert's state: the row (compare-and-set on the state it was read in, so two evaluators can
 * never apply one change twice), its event in `alert-<ruleId>` and its notifications, in one transaction.
 */
@Injectable()
export class AlertTransitions {
  constructor(
    private readonly repo: AlertsRepository,
    private readonly log: AlertLog,
    private readonly notifier: AlertNotifier,
  ) {}

  /** Opens a pending (or, with forMs 0, firing) alert; null when one is open already. */
  async open(ruleId: string, rule: AlertRuleSpec, subject: AlertSubject, state: 'pending' | 'firing', value: number, at: Date): Promise<AlertView | null> {
    return this.commit(async (tx) => {
      if (!(await this.repo.ruleStillEnabled(tx, ruleId))) return { alert: null, notified: 0 };
      const alert = await this.repo.insertOpen(tx, { id: randomUUID(), ruleId, rule, subjectKey: subject.key, subject: subject.ref, state, value, at });
      if (!alert) return { alert: null, notified: 0 };
      const change = { alertId: alert.id, ruleId, subject: subject.ref, severity: rule.severity, value };
      await this.log.append(tx, ruleId, [{ type: state === 'firing' ? 'AlertFiring' : 'AlertPending', data: change }]);
      const notified = state === 'firing' ? await this.notifier.enqueue(tx, 'alert.firing', alert, ruleId, rule, at) : 0;
      return { alert, notified };
    });
  }

  async fire(open: AlertView, rule: AlertRuleSpec, value: number, at: Date): Promise<AlertView | null> {
    return this.commit(async (tx) => {
      if (!(await this.repo.ruleStillEnabled(tx, open.ruleId))) return { alert: null, notified: 0 };
      const alert = await this.repo.fire(tx, open.id, value, at);
      if (!alert) return { alert: null, notified: 0 };
      await this.log.append(tx, open.ruleId, [{ type: 'AlertFiring', data: { alertId: open.id, ruleId: open.ruleId, subject: open.subject, severity: alert.severity, value } }]);
      return { alert, notified: await this.notifier.enqueue(tx, 'alert.firing', alert, open.ruleId, rule, at) };
    });
  }

  /** Resolves an open alert; inside `tx` when given (a rule's deletion), else in its own transaction. */
  async resolve(open: AlertView, rule: AlertRuleSpec, reason: AlertResolveReason, value: number | null, at: Date, tx?: PoolClient): Promise<AlertView | null> {
    const work = async (t: PoolClient) => {
      const alert = await this.repo.resolve(t, open.id, value, reason, at);
      if (!alert) return { alert: null, notified: 0 };
      const wasFiring = alert.firedAt !== null;
      await this.log.append(t, open.ruleId, [
        { type: 'AlertResolved', data: { alertId: open.id, ruleId: open.ruleId, subject: open.subject, severity: alert.severity, value: alert.value, wasFiring, reason } },
      ]);
      // Only an alert that fired was announced, so only its end is.
      const notified = wasFiring ? await this.notifier.enqueue(t, 'alert.resolved', alert, open.ruleId, rule, at) : 0;
      return { alert, notified };
    };
    if (tx) {
      const { alert, notified } = await work(tx);
      if (notified) setImmediate(() => this.notifier.onEnqueued());
      return alert;
    }
    return this.commit(work);
  }

  private async commit(work: (tx: PoolClient) => Promise<{ alert: AlertView | null; notified: number }>): Promise<AlertView | null> {
    const { alert, notified } = await inTransaction(this.repo.pool, work);
    if (notified) this.notifier.onEnqueued();
    return alert;
  }
}
