import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { ALERT_SEVERITIES, type AlertNotification, type AlertNotificationEvent, type AlertRuleSpec, type AlertView } from '@ddnn/contracts';
import { WebhooksRepository } from './webhooks.repository';

/**
 * Writes an alert's notification to the webhook outbox, in the transaction of the state change: it goes out
 * exactly when the change commits (the dispatcher sends it, on any node). A silenced alert notifies nobody.
 */
@Injectable()
export class AlertNotifier {
  /** Called after a commit that enqueued deliveries (the dispatcher sends them now instead of at its next poll). */
  onEnqueued: () => void = () => undefined;

  constructor(private readonly webhooks: WebhooksRepository) {}

  async enqueue(tx: PoolClient, event: AlertNotificationEvent, alert: AlertView, ruleId: string, rule: AlertRuleSpec, at: Date): Promise<number> {
    if (alert.silencedUntil && Date.parse(alert.silencedUntil) > at.getTime()) return 0;
    const recipients = await this.webhooks.recipients(tx, ALERT_SEVERITIES.indexOf(alert.severity), ALERT_SEVERITIES);
    for (const webhookId of recipients) {
      const deliveryId = randomUUID();
      const body: AlertNotification = {
        event,
        deliveryId,
        at: at.toISOString(),
        alert,
        rule: { id: ruleId, name: rule.name, metric: rule.metric, scope: rule.scope, condition: rule.condition, clear: rule.clear, forMs: rule.forMs },
      };
      await this.webhooks.enqueue(tx, { id: deliveryId, webhookId, alertId: alert.id, event, body: JSON.stringify(body) });
    }
    return recipients.length;
  }
}
