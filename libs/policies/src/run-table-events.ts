import { sessionStartOfStream } from '@ddnn/contracts';
import type { TableEvent } from './session-table';

/**
 * A run's events in the form the per-sample table is built from: a stream's StreamStarted read as a
 * SessionStarted, and labels that arrived later (SampleLabelled) put on their samples (a stream's samples start
 * without one). Other events pass through unchanged. The API's windowed compare and the dashboard's device side
 * of a stream window both build their tables through it, so both count the same labels.
 */
export function runTableEvents(events: readonly TableEvent[]): TableEvent[] {
  const labels = new Map<number, number>();
  for (const e of events) if (e.type === 'SampleLabelled') labels.set(e.data.sampleIndex, e.data.label);
  const out: TableEvent[] = [];
  for (const e of events) {
    if (e.type === 'StreamStarted') out.push({ type: 'SessionStarted', data: sessionStartOfStream(e.data) });
    else if (e.type === 'SampleStarted' && labels.has(e.data.sampleIndex)) out.push({ type: 'SampleStarted', data: { ...e.data, label: labels.get(e.data.sampleIndex) as number } });
    else if (e.type !== 'SampleLabelled') out.push(e);
  }
  return out;
}
