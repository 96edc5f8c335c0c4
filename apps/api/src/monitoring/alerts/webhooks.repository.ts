import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { AlertNotificationEvent, AlertSeverity, WebhookAttemptView, WebhookDeliveryStatus, WebhookDeliveryView, WebhookView } from '@ddnn/contracts';
import { Database } from '../../database/database';

interface WebhookRow {
  id: string;
  name: string;
  url: string;
  min_severity: AlertSeverity;
  enabled: boolean;
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  webhook_id: string;
  alert_id: string;
  event: AlertNotificationEvent;
  status: WebhookDeliveryStatus;
  next_attempt_at: Date;
  created_at: Date;
  delivered_at: Date | null;
  attempts_list: { attempt: number; at: string; http_status: number | null; error: string | null; duration_ms: number }[];
}

/** A delivery claimed for one attempt: what to send and where (the secret stays in memory only). */
export interface ClaimedDelivery {
  id: string;
  body: string;
  event: AlertNotificationEvent;
  attempt: number;
  url: string;
  secret: string;
}

const webhookView = (r: WebhookRow): WebhookView => ({
  id: r.id,
  name: r.name,
  url: r.url,
  minSeverity: r.min_severity,
  enabled: r.enabled,
  createdAt: r.created_at.toISOString(),
});

const WEBHOOK_COLUMNS = 'id, name, url, min_severity, enabled, created_at';

/** Webhooks, their delivery outbox and every attempt. The secret is read only to sign a claimed delivery. */
@Injectable()
export class WebhooksRepository {
  constructor(private readonly db: Database) {}

  async insert(w: { id: string; name: string; url: string; secret: string; minSeverity: AlertSeverity; enabled: boolean }): Promise<WebhookView> {
    const { rows } = await this.db.pool.query<WebhookRow>(
      `INSERT INTO alert_webhooks (id, name, url, secret, min_severity, enabled) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${WEBHOOK_COLUMNS}`,
      [w.id, w.name, w.url, w.secret, w.minSeverity, w.enabled],
    );
    return webhookView(rows[0]);
  }

  async list(): Promise<WebhookView[]> {
    const { rows } = await this.db.pool.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM alert_webhooks ORDER BY created_at, id`);
    return rows.map(webhookView);
  }

  async get(id: string): Promise<WebhookView | null> {
    const { rows } = await this.db.pool.query<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM alert_webhooks WHERE id = $1`, [id]);
    return rows.length ? webhookView(rows[0]) : null;
  }

  async update(id: string, patch: { name?: string; url?: string; minSeverity?: AlertSeverity; enabled?: boolean }): Promise<WebhookView | null> {
    const { rows } = await this.db.pool.query<WebhookRow>(
      `UPDATE alert_webhooks SET name = COALESCE($2, name), url = COALESCE($3, url), min_severity = COALESCE($4, min_severity),
              enabled = COALESCE($5, enabled)
        WHERE id = $1 RETURNING ${WEBHOOK_COLUMNS}`,
      [id, patch.name ?? null, patch.url ?? null, patch.minSeverity ?? null, patch.enabled ?? null],
    );
    return rows.length ? webhookView(rows[0]) : null;
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.db.pool.query('DELETE FROM alert_webhooks WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  /** Enabled webhooks that take an alert of this severity (severity ranks: critical 0 ... warning 3). */
  async recipients(tx: PoolClient, severityRank: number, ranks: readonly string[]): Promise<string[]> {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT id FROM alert_webhooks WHERE enabled AND array_position($2::text[], min_severity) - 1 >= $1 ORDER BY id`,
      [severityRank, ranks],
    );
    return rows.map((r) => r.id);
  }

  async enqueue(tx: PoolClient, d: { id: string; webhookId: string; alertId: string; event: AlertNotificationEvent; body: string }): Promise<void> {
    await tx.query('INSERT INTO webhook_deliveries (id, webhook_id, alert_id, event, body) VALUES ($1, $2, $3, $4, $5)', [d.id, d.webhookId, d.alertId, d.event, d.body]);
  }

  /**
   * Claims due deliveries for one attempt each: the attempt is counted and the delivery leased for `leaseMs`, so a
   * node that dies mid-send leaves it to another node after the lease (SKIP LOCKED: nodes never claim the same).
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const { rows } = await this.db.pool.query<ClaimedDelivery>(
      `UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)
         FROM alert_webhooks w
        WHERE w.id = d.webhook_id AND w.enabled
          AND d.id IN (SELECT id FROM webhook_deliveries
                        WHERE status = 'pending' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.body, d.event, d.attempts AS attempt, w.url, w.secret`,
      [limit, leaseMs],
    );
    return rows;
  }

  /** Records one attempt and its consequence: delivered, failed for good, or retried after `retryInMs`. */
  async recordAttempt(
    d: ClaimedDelivery,
    outcome: { httpStatus: number | null; error: string | null; durationMs: number; delivered: boolean; retryInMs: number | null },
  ): Promise<void> {
    const client = await this.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO webhook_delivery_attempts (delivery_id, attempt, http_status, error, duration_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        [d.id, d.attempt, outcome.httpStatus, outcome.error, outcome.durationMs],
      );
      if (outcome.delivered) await client.query(`UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now() WHERE id = $1`, [d.id]);
      else if (outcome.retryInMs === null) await client.query(`UPDATE webhook_deliveries SET status = 'failed' WHERE id = $1`, [d.id]);
      else {
        await client.query(`UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $2::double precision / 1000) WHERE id = $1`, [
          d.id,
          outcome.retryInMs,
        ]);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async deliveries(webhookId: string, limit: number, offset: number): Promise<{ items: WebhookDeliveryView[]; total: number }> {
    const total = await this.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]);
    const { rows } = await this.db.pool.query<DeliveryRow>(
      `SELECT d.id, d.webhook_id, d.alert_id, d.event, d.status, d.next_attempt_at, d.created_at, d.delivered_at,
              COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.at, 'http_status', a.http_status,
                                                         'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.attempt)
                          FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS attempts_list
         FROM webhook_deliveries d WHERE d.webhook_id = $1
        ORDER BY d.created_at DESC, d.id LIMIT $2 OFFSET $3`,
      [webhookId, limit, offset],
    );
    return {
      total: Number(total.rows[0].n),
      items: rows.map((r) => ({
        id: r.id,
        webhookId: r.webhook_id,
        alertId: r.alert_id,
        event: r.event,
        status: r.status,
        nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
        createdAt: r.created_at.toISOString(),
        deliveredAt: r.delivered_at ? r.delivered_at.toISOString() : null,
        attempts: r.attempts_list.map(
          (a): WebhookAttemptView => ({ attempt: a.attempt, at: new Date(a.at).toISOString(), httpStatus: a.http_status, error: a.error, durationMs: a.duration_ms }),
        ),
      })),
    };
  }
}
