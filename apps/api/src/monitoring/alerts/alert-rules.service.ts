import { randomUUID } from 'node:crypto';
import { BadRequestException, Injectable, Logger, NotFoundException, type OnApplicationBootstrap } from '@nestjs/common';
import {
  type AlertComparator,
  type AlertRuleSpec,
  type AlertRuleView,
  type AlertScope,
  type AlertThreshold,
  type CreateAlertRuleRequest,
  METRICS,
} from '@ddnn/contracts';
import { inTransaction, isDatabaseUnavailable } from '@ddnn/events';
import { AlertLog } from './alert-log';
import { AlertTransitions } from './alert-transitions';
import { AlertsRepository } from './alerts.repository';
import { DEFAULT_ALERT_RULES } from './default-rules';

const OPPOSITE: Record<AlertComparator, AlertComparator> = { '>': '<=', '>=': '<', '<': '>=', '<=': '>' };
const DEFAULT_WINDOW_MS = 5 * 60_000;

/** The clear condition a rule gets when none is given: the condition's negation (no hysteresis). */
export function negation(t: AlertThreshold): AlertThreshold {
  return { comparator: OPPOSITE[t.comparator], threshold: t.threshold };
}

/** Whether the metric can be measured for the scope's subjects (a run-only metric has no value per device). */
export function scopeProblem(metric: AlertRuleSpec['metric'], scope: AlertScope): string | null {
  const perDevice = scope.kind === 'device' || scope.kind === 'all-devices';
  if (metric === 'device_inactive') return perDevice ? null : 'device_inactive is measured per device: use a device or all-devices scope';
  const part = perDevice ? 'deviceId' : 'runId';
  return METRICS[metric].subjects.includes(part) ? null : `${metric} is not measured per ${perDevice ? 'device' : 'run'}`;
}

/** A rule as a request sends it: the scope not yet checked against its kind. */
export type AlertRuleInput = Omit<CreateAlertRuleRequest, 'scope'> & { scope: { kind: AlertScope['kind']; runId?: string; deviceId?: string } };

/** The scope as its kind needs it (the id it names, nothing else); a 400 when the id is missing. */
function normalizedScope(scope: { kind: AlertScope['kind']; runId?: string; deviceId?: string }): AlertScope {
  switch (scope.kind) {
    case 'run':
      if (!scope.runId) throw new BadRequestException('scope.runId is required for a run scope');
      return { kind: 'run', runId: scope.runId };
    case 'device':
      if (!scope.deviceId) throw new BadRequestException('scope.deviceId is required for a device scope');
      return { kind: 'device', deviceId: scope.deviceId };
    default:
      return { kind: scope.kind };
  }
}

/** A rule's full spec from a request (defaults filled, the metric checked against the scope). */
export function ruleSpec(req: AlertRuleInput): AlertRuleSpec {
  const scope = normalizedScope(req.scope);
  const problem = scopeProblem(req.metric, scope);
  if (problem) throw new BadRequestException(problem);
  return {
    name: req.name,
    description: req.description ?? '',
    metric: req.metric,
    scope,
    condition: { comparator: req.condition.comparator, threshold: req.condition.threshold },
    forMs: req.forMs,
    clear: req.clear ? { comparator: req.clear.comparator, threshold: req.clear.threshold } : negation(req.condition),
    windowMs: req.windowMs ?? DEFAULT_WINDOW_MS,
    severity: req.severity,
    enabled: req.enabled ?? true,
  };
}

/** Rules: create, edit, delete (each an event in the rule's stream), and the defaults a new install has. */
@Injectable()
export class AlertRulesService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AlertRulesService.name);

  constructor(
    private readonly repo: AlertsRepository,
    private readonly log: AlertLog,
    private readonly transitions: AlertTransitions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.installDefaults();
    } catch (e) {
      // A database outage at start must not stop the node; the next start installs them.
      if (!isDatabaseUnavailable(e)) throw e;
      this.logger.warn(`default alert rules not installed (database unavailable): ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Creates each built-in rule once per install (on whichever node gets there first); a deleted one stays deleted. */
  async installDefaults(): Promise<number> {
    let created = 0;
    for (const d of DEFAULT_ALERT_RULES) {
      const made = await inTransaction(this.repo.pool, async (tx) => {
        if (!(await this.repo.claimDefault(tx, d.key))) return false;
        const id = randomUUID();
        const spec = ruleSpec(d.rule);
        await this.repo.insertRule(tx, id, spec, d.key);
        await this.log.append(tx, id, [{ type: 'AlertRuleCreated', data: { ruleId: id, rule: spec } }]);
        return true;
      });
      if (made) created++;
    }
    return created;
  }

  list(): Promise<AlertRuleView[]> {
    return this.repo.listRules();
  }

  async get(id: string): Promise<AlertRuleView> {
    const rule = await this.repo.getRule(id);
    if (!rule) throw new NotFoundException(`alert rule ${id} not found`);
    return rule;
  }

  async create(req: AlertRuleInput): Promise<AlertRuleView> {
    const spec = ruleSpec(req);
    const id = randomUUID();
    await inTransaction(this.repo.pool, async (tx) => {
      await this.repo.insertRule(tx, id, spec);
      await this.log.append(tx, id, [{ type: 'AlertRuleCreated', data: { ruleId: id, rule: spec } }]);
    });
    return this.get(id);
  }

  /** Replaces the rule. Disabling it resolves its open alerts; other edits apply from the next evaluation. */
  async update(id: string, req: AlertRuleInput): Promise<AlertRuleView> {
    const spec = ruleSpec(req);
    await inTransaction(this.repo.pool, async (tx) => {
      if (!(await this.repo.lockRule(tx, id))) throw new NotFoundException(`alert rule ${id} not found`);
      await this.repo.updateRule(tx, id, spec);
      await this.log.append(tx, id, [{ type: 'AlertRuleUpdated', data: { ruleId: id, rule: spec } }]);
      if (!spec.enabled) {
        for (const alert of await this.repo.openAlertsOfRule(id, tx)) await this.transitions.resolve(alert, spec, 'rule-disabled', null, new Date(), tx);
      }
    });
    return this.get(id);
  }

  /** Deletes the rule; its open alerts resolve, and its alerts and stream stay as history. */
  async delete(id: string): Promise<void> {
    await inTransaction(this.repo.pool, async (tx) => {
      const rule = await this.repo.getRule(id, tx);
      if (!rule || !(await this.repo.lockRule(tx, id))) throw new NotFoundException(`alert rule ${id} not found`);
      for (const alert of await this.repo.openAlertsOfRule(id, tx)) await this.transitions.resolve(alert, rule, 'rule-deleted', null, new Date(), tx);
      await this.repo.deleteRule(tx, id);
      await this.log.append(tx, id, [{ type: 'AlertRuleDeleted', data: { ruleId: id } }]);
    });
  }
}
