import { Injectable } from '@nestjs/common';
import type { AlertScope, AlertSubjectRef } from '@ddnn/contracts';
import { Database } from '../../database/database';

/** One thing a rule is evaluated for: a run or a device. */
export interface AlertSubject {
  /** `run:<id>` or `device:<id>`: one open alert per rule and key. */
  key: string;
  ref: AlertSubjectRef;
}

export const subjectKey = (ref: AlertSubjectRef): string => (ref.deviceId ? `device:${ref.deviceId}` : `run:${ref.runId}`);

/**
 * The subjects a rule's scope covers now: runs (sessions and streams) while they run, devices while they are
 * registered. A subject that leaves the scope (a run ends, a device is deleted) has its open alert resolved.
 */
@Injectable()
export class AlertSubjects {
  constructor(private readonly db: Database) {}

  async of(scope: AlertScope): Promise<AlertSubject[]> {
    switch (scope.kind) {
      case 'run':
        return this.runs(`SELECT id::text AS id FROM sessions WHERE status = 'running' AND id::text = $1`, [scope.runId]);
      case 'all-runs':
        return this.runs(`SELECT id::text AS id FROM sessions WHERE status = 'running' ORDER BY id`, []);
      case 'device':
        return this.devices(`SELECT id::text AS id FROM devices WHERE id::text = $1`, [scope.deviceId]);
      case 'all-devices':
        return this.devices(`SELECT id::text AS id FROM devices ORDER BY id`, []);
    }
  }

  private async runs(sql: string, values: unknown[]): Promise<AlertSubject[]> {
    const { rows } = await this.db.pool.query<{ id: string }>(sql, values);
    return rows.map((r) => ({ key: subjectKey({ runId: r.id }), ref: { runId: r.id } }));
  }

  private async devices(sql: string, values: unknown[]): Promise<AlertSubject[]> {
    const { rows } = await this.db.pool.query<{ id: string }>(sql, values);
    return rows.map((r) => ({ key: subjectKey({ deviceId: r.id }), ref: { deviceId: r.id } }));
  }
}
