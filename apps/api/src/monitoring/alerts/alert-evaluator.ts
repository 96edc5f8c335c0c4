import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AlertRuleSpec } from '@ddnn/contracts';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { AlertMetricReader } from './alert-metric-reader';
import { nextTransition } from './alert-state';
import type { ReadMemo } from '../metrics/metrics.service';
import { AlertSubjects, type AlertSubject } from './alert-subjects';
import { AlertTransitions } from './alert-transitions';
import { AlertsRepository } from './alerts.repository';

/** Reads one round shares across its rules. */
interface Round {
  subjects: Map<string, Promise<AlertSubject[]>>;
  memo: ReadMemo;
}

/** Every node tries this lock each round; the one that gets it evaluates, the others skip the round. */
const EVALUATOR_LOCK = `hashtextextended('ddnn-alert-evaluator', 0)`;

export interface EvaluationRound {
  /** False when another node held the evaluator lock (nothing evaluated here). */
  evaluated: boolean;
  rules: number;
  subjects: number;
  changes: number;
  errors: number;
}

/**
 * Evaluates every enabled rule for every subject of its scope each DDNN_ALERT_EVAL_INTERVAL_MS. One node at a time
 * (a transaction-level advisory lock held for the round: it goes with the node's connection if the node dies),
 * and each change is a compare-and-set besides, so a round that overlaps another cannot duplicate anything.
 */
@Injectable()
export class AlertEvaluator implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AlertEvaluator.name);
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<EvaluationRound> | null = null;
  private stopped = false;

  constructor(
    private readonly repo: AlertsRepository,
    private readonly subjects: AlertSubjects,
    private readonly reader: AlertMetricReader,
    private readonly transitions: AlertTransitions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.evaluateNow()
        .catch((e) => this.logger.warn(`alert evaluation failed (next round in ${this.config.DDNN_ALERT_EVAL_INTERVAL_MS} ms): ${e instanceof Error ? e.message : e}`))
        .finally(() => this.schedule());
    }, this.config.DDNN_ALERT_EVAL_INTERVAL_MS);
    this.timer.unref();
  }

  /** One round now (or the one in progress); `now` is the evaluation time (tests move it). */
  evaluateNow(now: Date = new Date()): Promise<EvaluationRound> {
    this.current ??= this.round(now).finally(() => {
      this.current = null;
    });
    return this.current;
  }

  private async round(now: Date): Promise<EvaluationRound> {
    const out: EvaluationRound = { evaluated: false, rules: 0, subjects: 0, changes: 0, errors: 0 };
    const lock = await this.repo.pool.connect();
    let broken = false;
    try {
      await lock.query('BEGIN');
      const { rows } = await lock.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${EVALUATOR_LOCK}) AS locked`);
      if (!rows[0].locked) return out;
      out.evaluated = true;
      // What the round's rules share: the subjects of a scope (three default rules cover every device, two every
      // run) and the metrics' reference lookups.
      const round: Round = { subjects: new Map(), memo: new Map() };
      for (const rule of await this.repo.enabledRules()) {
        out.rules++;
        await this.evaluateRule(rule.id, rule.spec, now, out, round);
      }
      return out;
    } catch (e) {
      broken = true;
      throw e;
    } finally {
      await lock.query('COMMIT').catch(() => {
        broken = true;
      });
      lock.release(broken);
    }
  }

  private async evaluateRule(ruleId: string, rule: AlertRuleSpec, now: Date, out: EvaluationRound, round: Round): Promise<void> {
    const scope = JSON.stringify(rule.scope);
    let pending = round.subjects.get(scope);
    if (!pending) {
      pending = this.subjects.of(rule.scope);
      round.subjects.set(scope, pending);
    }
    const subjects = await pending;
    const open = new Map((await this.repo.openAlertsOfRule(ruleId)).map((a) => [a.subjectKey, a]));
    for (const subject of subjects) {
      out.subjects++;
      const alert = open.get(subject.key) ?? null;
      open.delete(subject.key);
      try {
        const value = await this.reader.read(rule.metric, subject.ref, rule.windowMs, round.memo);
        const t = nextTransition(alert ? { state: alert.state as 'pending' | 'firing', pendingSince: Date.parse(alert.pendingSince) } : null, value, rule, now.getTime());
        if (t.kind === 'touch' && alert) await this.repo.touch(alert.id, value, now);
        else if (t.kind === 'open' && value !== null) out.changes += (await this.transitions.open(ruleId, rule, subject, t.state, value, now)) ? 1 : 0;
        else if (t.kind === 'fire' && alert && value !== null) out.changes += (await this.transitions.fire(alert, rule, value, now)) ? 1 : 0;
        else if (t.kind === 'resolve' && alert) out.changes += (await this.transitions.resolve(alert, rule, t.reason, value, now)) ? 1 : 0;
      } catch (e) {
        // One subject's failure (a metric query, a lost connection) must not stop the others' evaluation.
        out.errors++;
        this.logger.warn(`rule ${ruleId} on ${subject.key}: ${e instanceof Error ? e.message : e}`);
      }
    }
    // Open alerts whose subject left the scope (the run ended, the device was deleted).
    for (const alert of open.values()) {
      out.changes += (await this.transitions.resolve(alert, rule, 'subject-gone', null, now)) ? 1 : 0;
    }
  }
}
