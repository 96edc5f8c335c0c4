import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alerting (apps/api/src/monitoring/alerts) and the Prometheus totals (apps/api/src/monitoring/prometheus).
 * - alert_rules: the rules as they are now (their history is the `alert-<ruleId>` stream).
 * - alert_defaults: which built-in rules this install has created once, so a default an operator deleted stays deleted.
 * - alerts: one row per alert; the partial unique index keeps one open alert per rule and subject. No foreign key
 *   to alert_rules: an alert outlives its rule as history.
 * - alert_webhooks, webhook_deliveries (an outbox: the notification is written in the transaction of the state
 *   change, its exact bytes kept so every retry sends and signs the same body), webhook_delivery_attempts.
 * - prometheus_totals: counters and histogram buckets folded from the log by one subscription, so every node
 *   serves the same cluster totals.
 */
export class Alerts1765300000010 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE alert_rules (
        id uuid PRIMARY KEY,
        spec jsonb NOT NULL,
        default_key text UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE TABLE alert_defaults (key text PRIMARY KEY, installed_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`
      CREATE TABLE alerts (
        id uuid PRIMARY KEY,
        rule_id uuid NOT NULL,
        rule_name text NOT NULL,
        metric text NOT NULL,
        subject_key text NOT NULL,
        subject jsonb NOT NULL,
        severity text NOT NULL CHECK (severity IN ('critical', 'major', 'minor', 'warning')),
        condition jsonb NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
        value double precision,
        pending_since timestamptz NOT NULL,
        fired_at timestamptz,
        resolved_at timestamptz,
        resolved_reason text,
        acknowledged_at timestamptz,
        ack_note text,
        silenced_until timestamptz,
        last_evaluated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id, subject_key) WHERE state <> 'resolved'`);
    await q.query(`CREATE INDEX alerts_by_state ON alerts (state, pending_since DESC, id)`);
    await q.query(`CREATE INDEX alerts_by_rule_subject ON alerts (rule_id, subject_key, pending_since DESC)`);
    await q.query(`
      CREATE TABLE alert_webhooks (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        url text NOT NULL,
        secret text NOT NULL,
        min_severity text NOT NULL CHECK (min_severity IN ('critical', 'major', 'minor', 'warning')),
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES alert_webhooks (id) ON DELETE CASCADE,
        alert_id uuid NOT NULL,
        event text NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE webhook_delivery_attempts (
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        http_status integer,
        error text,
        duration_ms double precision NOT NULL,
        PRIMARY KEY (delivery_id, attempt)
      )`);
    await q.query(`
      CREATE TABLE prometheus_totals (
        name text NOT NULL,
        labels jsonb NOT NULL,
        value double precision NOT NULL,
        PRIMARY KEY (name, labels)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['prometheus_totals', 'webhook_delivery_attempts', 'webhook_deliveries', 'alert_webhooks', 'alerts', 'alert_defaults', 'alert_rules']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
