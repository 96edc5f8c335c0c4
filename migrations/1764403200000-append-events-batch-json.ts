import type { MigrationInterface, QueryRunner } from 'typeorm';
import { APPEND_EVENTS_FUNCTION } from './1764230400000-event-store';

/**
 * Brings append_events to its current signature (streams, expected, request indexes, event ids, events as one
 * JSON array) on databases that applied an earlier EventStore1764230400000 while it was being written: the
 * first took arrays of jsonb, the second the ids inside the JSON. A fresh database already has it; replacing it
 * with itself is harmless. A later change to append_events gets its own migration with its own copy of the SQL.
 */
export class AppendEventsBatchJson1764403200000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS append_events(text[], bigint[], integer[], uuid[], text[], integer[], jsonb[], jsonb[])`);
    await q.query(`DROP FUNCTION IF EXISTS append_events(text[], bigint[], jsonb)`);
    await q.query(APPEND_EVENTS_FUNCTION);
  }

  async down(): Promise<void> {
    // The earlier signatures are gone for good; EventStore1764230400000's down() drops the function.
  }
}
