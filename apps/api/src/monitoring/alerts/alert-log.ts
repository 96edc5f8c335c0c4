import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { type NewEvent, streamIds } from '@ddnn/contracts';
import { newEventId } from '@ddnn/events';
import { Database } from '../../database/database';

/** Appends a rule's events to its stream `alert-<ruleId>`, inside the caller's transaction (with the table change). */
@Injectable()
export class AlertLog {
  constructor(private readonly db: Database) {}

  async append(tx: PoolClient, ruleId: string, events: NewEvent[]): Promise<void> {
    const withIds = events.map((e) => ({ ...e, eventId: e.eventId ?? newEventId() }) as NewEvent);
    const [outcome] = await this.db.store.appendBatch([{ streamId: streamIds.alert(ruleId), events: withIds }], tx);
    if (!outcome.ok) throw outcome.error;
  }
}
