import type { MigrationInterface, QueryRunner } from 'typeorm';
import { rebuildSampleIndex, SAMPLE_INDEXED_TYPES as BEFORE } from './1766200000000-sections-evaluated-sample-index';

/**
 * A sample that ends without an answer is logged as a SampleUnanswered, and the reads of a window of a stream's
 * samples (compare, labels) need those of the window: the partial index over the per-sample types takes the type in,
 * since a read naming a type outside its predicate would scan every event of the stream. Rebuilt as in 1766200000000.
 */
export const SAMPLE_INDEXED_TYPES = [...BEFORE, 'SampleUnanswered'] as const;

export class UnansweredSampleIndex1766600000000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await rebuildSampleIndex(q, SAMPLE_INDEXED_TYPES);
  }

  async down(q: QueryRunner): Promise<void> {
    await rebuildSampleIndex(q, BEFORE);
  }
}
