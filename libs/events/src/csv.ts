import type { EventStore } from './event-store';

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled; null is empty. */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'boolean' ? (value ? 't' : 'f') : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line, newline included. */
export function csvLine(fields: (string | number | boolean | null | undefined)[]): string {
  return fields.map(csvField).join(',') + '\n';
}

export const EVENTS_CSV_COLUMNS = ['global_position', 'stream_position', 'checkpoint', 'type', 'schema_version', 'event_id', 'created_at', 'data', 'metadata'];

/**
 * One stream's events as CSV (header first), in stream order, upcast to current schema versions (so
 * schema_version is the current one and data its shape), a page at a time: pipe it with back-pressure
 * (`pipeline(Readable.from(eventsCsv(...)), out)`) and the export never sits in memory. Payloads already at
 * their current version go out as the server's jsonb text, unparsed (parse and re-serialise cost 10x the read).
 */
export async function* eventsCsv(store: EventStore, streamId: string, pageSize = 5000): AsyncGenerator<string> {
  yield csvLine(EVENTS_CSV_COLUMNS);
  for await (const page of store.rawStreamPages(streamId, { pageSize })) {
    let chunk = '';
    for (const e of page) {
      const current = store.upcasters.currentVersion(e.type);
      const data = e.schemaVersion === current ? e.data : JSON.stringify(store.upcasters.upcast(e.type, e.schemaVersion, JSON.parse(e.data)));
      chunk += csvLine([e.globalPosition, e.streamPosition, e.checkpoint, e.type, current, e.eventId, e.createdAt, data, e.metadata]);
    }
    yield chunk;
  }
}
