import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reads of a stream's events by sample (EventStore.samplePayloads: labelling a sample looks up its decision and
 * any label it has; compare over a window reads the window's samples) filtered `data->>'sampleIndex'` over every
 * event of the type in the stream: a weeks-long stream made each labels request scan millions of rows. This index
 * finds them by (stream, type, sample) instead.
 *
 * - On events_stream, the partitioned parent of the day partitions: Postgres builds it on every partition
 *   attached now and on each one attached later (partitions.ts creates them bare and ATTACHes them, which builds
 *   the index there), and retention drops it with its partition. Sessions' events (events_kept) are not indexed:
 *   their analyses read them whole, and their appends pay nothing for it.
 * - Partial, on the per-sample types those reads name: the expression is only evaluated (and cast) for events the
 *   engine writes with an integer sampleIndex, and the bulky per-link BytesTransferred rows stay out of it.
 *   The reads name the type, so the planner proves the predicate and uses it.
 */
export const SAMPLE_INDEXED_TYPES = ['SampleStarted', 'ExitDecided', 'SectionEvaluated', 'DeviceMissed', 'SampleLabelled'] as const;

export class StreamSampleIndex1765400000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    const types = SAMPLE_INDEXED_TYPES.map((t) => `'${t}'`).join(', ');
    await q.query(`CREATE INDEX events_stream_sample_idx ON events_stream (stream_id, type, ((data->>'sampleIndex')::int)) WHERE type IN (${types})`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX events_stream_sample_idx');
  }
}
