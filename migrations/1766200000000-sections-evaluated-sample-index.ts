import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A sample's sections are logged as one SectionsEvaluated per stage where each section was its own SectionEvaluated
 * (six cameras made six events of every sample's ten). The reads of a stream's events by sample name both types, so
 * the partial index over the per-sample types (1765400000000) takes the new one in: a read naming a type outside
 * the index's predicate would scan every event of the stream. The new index is built first and the old one dropped
 * after (the drop's exclusive lock then lasts only to the commit, not the whole build; reads go on during the build),
 * then it takes the old name, so plans and tests that name it hold. On the partitioned parent, Postgres builds it on
 * every partition, as before.
 */
export const SAMPLE_INDEXED_TYPES = ['SampleStarted', 'ExitDecided', 'SectionsEvaluated', 'SectionEvaluated', 'DeviceMissed', 'SampleLabelled'] as const;
const BEFORE = ['SampleStarted', 'ExitDecided', 'SectionEvaluated', 'DeviceMissed', 'SampleLabelled'] as const;

/** Rebuilds the per-sample partial index over `types`, under its name (later migrations that add a type reuse it). */
export async function rebuildSampleIndex(q: QueryRunner, types: readonly string[]): Promise<void> {
  const list = types.map((t) => `'${t}'`).join(', ');
  await q.query(`CREATE INDEX events_stream_sample_idx_next ON events_stream (stream_id, type, ((data->>'sampleIndex')::int)) WHERE type IN (${list})`);
  await q.query('DROP INDEX events_stream_sample_idx');
  await q.query('ALTER INDEX events_stream_sample_idx_next RENAME TO events_stream_sample_idx');
}

export class SectionsEvaluatedSampleIndex1766200000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await rebuildSampleIndex(q, SAMPLE_INDEXED_TYPES);
  }

  async down(q: QueryRunner): Promise<void> {
    await rebuildSampleIndex(q, BEFORE);
  }
}
