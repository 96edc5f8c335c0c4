import { Injectable } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import type {
  AlertListState,
  AlertResolveReason,
  AlertRuleSpec,
  AlertRuleView,
  AlertSeverity,
  AlertState,
  AlertSubjectRef,
  AlertThreshold,
  AlertView,
} from '@ddnn/contracts';
import { Database } from '../../database/database';

type Db = Pool | PoolClient;

interface RuleRow {
  id: string;
  spec: AlertRuleSpec;
  default_key: string | null;
  open_alerts: string;
  created_at: Date;
  updated_at: Date;
}

interface AlertRow {
  id: string;
  rule_id: string;
  rule_name: string;
  metric: string;
  subject_key: string;
  subject: AlertSubjectRef;
  subject_name: string | null;
  severity: AlertSeverity;
  condition: AlertThreshold;
  state: AlertState;
  value: number | null;
  pending_since: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
  resolved_reason: AlertResolveReason | null;
  acknowledged_at: Date | null;
  ack_note: string | null;
  silenced_until: Date | null;
  last_evaluated_at: Date;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function ruleView(r: RuleRow): AlertRuleView {
  return { id: r.id, ...r.spec, defaultKey: r.default_key, openAlerts: Number(r.open_alerts), createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() };
}

function alertView(r: AlertRow): AlertView {
  return {
    id: r.id,
    ruleId: r.rule_id,
    ruleName: r.rule_name,
    metric: r.metric as AlertView['metric'],
    severity: r.severity,
    subject: r.subject,
    subjectKey: r.subject_key,
    subjectName: r.subject_name,
    state: r.state,
    value: r.value,
    condition: r.condition,
    pendingSince: r.pending_since.toISOString(),
    firedAt: iso(r.fired_at),
    resolvedAt: iso(r.resolved_at),
    resolvedReason: r.resolved_reason,
    acknowledgedAt: iso(r.acknowledged_at),
    ackNote: r.ack_note,
    silencedUntil: iso(r.silenced_until),
    lastEvaluatedAt: r.last_evaluated_at.toISOString(),
  };
}

const RULE_SELECT = `
  SELECT r.id, r.spec, r.default_key, r.created_at, r.updated_at,
         (SELECT count(*) FROM alerts a WHERE a.rule_id = r.id AND a.state <> 'resolved') AS open_alerts
    FROM alert_rules r`;

// The rule's current name when it still exists; the device's name when the subject is a device that exists.
const ALERT_SELECT = `
  SELECT a.*, COALESCE(r.spec->>'name', a.rule_name) AS rule_name, d.name AS subject_name
    FROM alerts a
    LEFT JOIN alert_rules r ON r.id = a.rule_id
    LEFT JOIN devices d ON d.id::text = a.subject->>'deviceId'`;

/** A new alert's row (pending or firing at once). */
export interface NewAlert {
  id: string;
  ruleId: string;
  rule: AlertRuleSpec;
  subjectKey: string;
  subject: AlertSubjectRef;
  state: 'pending' | 'firing';
  value: number;
  at: Date;
}

/** Rules and alerts in their tables (their history is the event log, written by the services). */
@Injectable()
export class AlertsRepository {
  constructor(private readonly db: Database) {}

  get pool(): Pool {
    return this.db.pool;
  }

  async listRules(): Promise<AlertRuleView[]> {
    const { rows } = await this.pool.query<RuleRow>(`${RULE_SELECT} ORDER BY r.created_at, r.id`);
    return rows.map(ruleView);
  }

  async getRule(id: string, db: Db = this.pool): Promise<AlertRuleView | null> {
    const { rows } = await db.query<RuleRow>(`${RULE_SELECT} WHERE r.id = $1`, [id]);
    return rows.length ? ruleView(rows[0]) : null;
  }

  async insertRule(tx: PoolClient, id: string, spec: AlertRuleSpec, defaultKey: string | null = null): Promise<void> {
    await tx.query('INSERT INTO alert_rules (id, spec, default_key) VALUES ($1, $2, $3)', [id, spec, defaultKey]);
  }

  /** Locks the rule's row for the rest of the transaction; false when it does not exist. */
  async lockRule(tx: PoolClient, id: string): Promise<boolean> {
    return ((await tx.query('SELECT 1 FROM alert_rules WHERE id = $1 FOR UPDATE', [id])).rowCount ?? 0) > 0;
  }

  /**
   * Share-locks the rule for the rest of the transaction when it exists and is enabled: an evaluator's change
   * then waits for a concurrent edit or deletion (which lock it for update) and sees its outcome.
   */
  async ruleStillEnabled(tx: PoolClient, id: string): Promise<boolean> {
    const r = await tx.query(`SELECT 1 FROM alert_rules WHERE id = $1 AND (spec->>'enabled')::boolean FOR SHARE`, [id]);
    return (r.rowCount ?? 0) > 0;
  }

  async updateRule(tx: PoolClient, id: string, spec: AlertRuleSpec): Promise<void> {
    await tx.query('UPDATE alert_rules SET spec = $2, updated_at = now() WHERE id = $1', [id, spec]);
  }

  async deleteRule(tx: PoolClient, id: string): Promise<void> {
    await tx.query('DELETE FROM alert_rules WHERE id = $1', [id]);
  }

  /** Marks a built-in default as installed; false when it already was (by this node or another). */
  async claimDefault(tx: PoolClient, key: string): Promise<boolean> {
    const r = await tx.query('INSERT INTO alert_defaults (key) VALUES ($1) ON CONFLICT DO NOTHING', [key]);
    return (r.rowCount ?? 0) > 0;
  }

  /** Enabled rules with their ids, for one evaluation round. */
  async enabledRules(): Promise<{ id: string; spec: AlertRuleSpec }[]> {
    const { rows } = await this.pool.query<{ id: string; spec: AlertRuleSpec }>(
      `SELECT id, spec FROM alert_rules WHERE (spec->>'enabled')::boolean ORDER BY created_at, id`,
    );
    return rows;
  }

  async openAlertsOfRule(ruleId: string, db: Db = this.pool): Promise<AlertView[]> {
    const { rows } = await db.query<AlertRow>(`${ALERT_SELECT} WHERE a.rule_id = $1 AND a.state <> 'resolved'`, [ruleId]);
    return rows.map(alertView);
  }

  async getAlert(id: string, db: Db = this.pool): Promise<AlertView | null> {
    const { rows } = await db.query<AlertRow>(`${ALERT_SELECT} WHERE a.id = $1`, [id]);
    return rows.length ? alertView(rows[0]) : null;
  }

  async listAlerts(filter: { state?: AlertListState; ruleId?: string; deviceId?: string; runId?: string; limit: number; offset: number }): Promise<{ items: AlertView[]; total: number }> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      values.push(v);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (filter.state === 'open') where.push(`a.state <> 'resolved'`);
    else if (filter.state) add('a.state = ?', filter.state);
    if (filter.ruleId) add('a.rule_id = ?', filter.ruleId);
    if (filter.deviceId) add(`a.subject->>'deviceId' = ?`, filter.deviceId);
    if (filter.runId) add(`a.subject->>'runId' = ?`, filter.runId);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM alerts a ${clause}`, values);
    // Open alerts first (firing before pending), then the most recent.
    const { rows } = await this.pool.query<AlertRow>(
      `${ALERT_SELECT} ${clause}
        ORDER BY CASE a.state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END,
                 COALESCE(a.resolved_at, a.fired_at, a.pending_since) DESC, a.id
        LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
      [...values, filter.limit, filter.offset],
    );
    return { items: rows.map(alertView), total: Number(total.rows[0].n) };
  }

  /**
   * Opens an alert unless one is open for the rule and subject already (another evaluator won): null then.
   * A silence set on the subject's previous alert of this rule carries over while it lasts.
   */
  async insertOpen(tx: PoolClient, a: NewAlert): Promise<AlertView | null> {
    const r = await tx.query(
      `INSERT INTO alerts (id, rule_id, rule_name, metric, subject_key, subject, severity, condition, state, value,
                           pending_since, fired_at, last_evaluated_at, silenced_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $11,
               (SELECT max(silenced_until) FROM alerts WHERE rule_id = $2 AND subject_key = $5 AND silenced_until > $11))
       ON CONFLICT (rule_id, subject_key) WHERE state <> 'resolved' DO NOTHING`,
      [a.id, a.ruleId, a.rule.name, a.rule.metric, a.subjectKey, a.subject, a.rule.severity, a.rule.condition, a.state, a.value, a.at, a.state === 'firing' ? a.at : null],
    );
    return (r.rowCount ?? 0) > 0 ? this.getAlert(a.id, tx) : null;
  }

  /** Records the latest value of an open alert (no change of state). */
  async touch(id: string, value: number | null, at: Date): Promise<void> {
    await this.pool.query(`UPDATE alerts SET value = COALESCE($2, value), last_evaluated_at = $3 WHERE id = $1 AND state <> 'resolved'`, [id, value, at]);
  }

  /** pending -> firing; null when the alert is no longer pending (another evaluator moved it). */
  async fire(tx: PoolClient, id: string, value: number, at: Date): Promise<AlertView | null> {
    const r = await tx.query(`UPDATE alerts SET state = 'firing', fired_at = $3, value = $2, last_evaluated_at = $3 WHERE id = $1 AND state = 'pending'`, [id, value, at]);
    return (r.rowCount ?? 0) > 0 ? this.getAlert(id, tx) : null;
  }

  /** open -> resolved; null when it is resolved already. */
  async resolve(tx: PoolClient, id: string, value: number | null, reason: AlertResolveReason, at: Date): Promise<AlertView | null> {
    const r = await tx.query(
      `UPDATE alerts SET state = 'resolved', resolved_at = $4, resolved_reason = $3, value = COALESCE($2, value), last_evaluated_at = $4
        WHERE id = $1 AND state <> 'resolved'`,
      [id, value, reason, at],
    );
    return (r.rowCount ?? 0) > 0 ? this.getAlert(id, tx) : null;
  }

  /** Null when the alert does not exist; unchanged (and `changed` false) when it was acknowledged already. */
  async acknowledge(tx: PoolClient, id: string, note: string | null): Promise<{ alert: AlertView; changed: boolean } | null> {
    const r = await tx.query(`UPDATE alerts SET acknowledged_at = now(), ack_note = $2 WHERE id = $1 AND acknowledged_at IS NULL`, [id, note]);
    const alert = await this.getAlert(id, tx);
    return alert ? { alert, changed: (r.rowCount ?? 0) > 0 } : null;
  }

  async silence(tx: PoolClient, id: string, until: Date): Promise<AlertView | null> {
    const r = await tx.query(`UPDATE alerts SET silenced_until = CASE WHEN $2 > now() THEN $2 END WHERE id = $1`, [id, until]);
    return (r.rowCount ?? 0) > 0 ? this.getAlert(id, tx) : null;
  }

  /** Open alerts by severity and state, for /metrics. */
  async openCounts(): Promise<{ severity: AlertSeverity; state: AlertState; n: number }[]> {
    const { rows } = await this.pool.query<{ severity: AlertSeverity; state: AlertState; n: string }>(
      `SELECT severity, state, count(*) AS n FROM alerts WHERE state <> 'resolved' GROUP BY severity, state`,
    );
    return rows.map((r) => ({ severity: r.severity, state: r.state, n: Number(r.n) }));
  }
}
