import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A sample's sections are logged as one SectionsEvaluated per stage where each section was its own SectionEvaluated
 * (six cameras made six events of every sample's ten). The reads of a stream's events by sample name both types, so
 * the partial index over the per-sample types (1765400000000) takes the new one in: a read naming a type outside
 * the index's predicate would scan every event of the stream. Rebuilt under its own name, so plans and tests that
 * name it hold; on the partitioned parent, Postgres builds it on every partition, as before.
 */
export const SAMPLE_INDEXED_TYPES = ['SampleStarted', 'ExitDecided', 'SectionsEvaluated', 'SectionEvaluated', 'DeviceMissed', 'SampleLabelled'] as const;
const BEFORE = ['SampleStarted', 'ExitDecided', 'SectionEvaluated', 'DeviceMissed', 'SampleLabelled'] as const;

const createIndex = (types: readonly string[]): string =>
  `CREATE INDEX events_stream_sample_idx ON events_stream (stream_id, type, ((data->>'sampleIndex')::int)) WHERE type IN (${types.map((t) => `'${t}'`).join(', ')})`;

export class SectionsEvaluatedSampleIndex1766200000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX events_stream_sample_idx');
    await q.query(createIndex(SAMPLE_INDEXED_TYPES));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX events_stream_sample_idx');
    await q.query(createIndex(BEFORE));
  }
}
