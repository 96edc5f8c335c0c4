import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { AlertListResponse, AlertListState, AlertView } from '@ddnn/contracts';
import { inTransaction } from '@ddnn/events';
import { AlertLog } from './alert-log';
import { AlertsRepository } from './alerts.repository';

const MAX_SILENCE_MS = 30 * 86_400_000;

/** Alerts as operators see them: listed, acknowledged, silenced (each change an event in the rule's stream). */
@Injectable()
export class AlertsService {
  constructor(
    private readonly repo: AlertsRepository,
    private readonly log: AlertLog,
  ) {}

  list(q: { state?: AlertListState; ruleId?: string; deviceId?: string; runId?: string; limit?: number; offset?: number }): Promise<AlertListResponse> {
    return this.repo.listAlerts({ ...q, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  async get(id: string): Promise<AlertView> {
    const alert = await this.repo.getAlert(id);
    if (!alert) throw new NotFoundException(`alert ${id} not found`);
    return alert;
  }

  /** Idempotent: acknowledging an acknowledged alert changes nothing and logs nothing. */
  async acknowledge(id: string, note: string | undefined): Promise<AlertView> {
    return inTransaction(this.repo.pool, async (tx) => {
      const r = await this.repo.acknowledge(tx, id, note ?? null);
      if (!r) throw new NotFoundException(`alert ${id} not found`);
      if (r.changed) await this.log.append(tx, r.alert.ruleId, [{ type: 'AlertAcknowledged', data: { alertId: id, ruleId: r.alert.ruleId, note: note ?? null } }]);
      return r.alert;
    });
  }

  async silence(id: string, untilIso: string): Promise<AlertView> {
    const until = new Date(untilIso);
    if (until.getTime() - Date.now() > MAX_SILENCE_MS) throw new BadRequestException('until must be at most 30 days ahead');
    return inTransaction(this.repo.pool, async (tx) => {
      const alert = await this.repo.silence(tx, id, until);
      if (!alert) throw new NotFoundException(`alert ${id} not found`);
      await this.log.append(tx, alert.ruleId, [{ type: 'AlertSilenced', data: { alertId: id, ruleId: alert.ruleId, until: until.toISOString() } }]);
      return alert;
    });
  }
}
