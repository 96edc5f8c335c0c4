import { sampleSections, type SectionEvaluated, type StoredEvent } from '@ddnn/contracts';

/** A section as a log records it: its output, its sample's ids, and when its event was logged. */
export type LoggedSection = SectionEvaluated & { createdAt: string };

/**
 * Every section a log records, one record each, whichever shape logged it (a stage's SectionsEvaluated, or the
 * SectionEvaluated of each section in older logs): what tests count sections by.
 */
export function sectionsIn(events: readonly StoredEvent[]): LoggedSection[] {
  const out: LoggedSection[] = [];
  for (const e of events) {
    const x = sampleSections(e);
    if (x) for (const s of x.sections) out.push({ sessionId: x.sessionId, sampleIndex: x.sampleIndex, ...s, createdAt: e.createdAt });
  }
  return out;
}
