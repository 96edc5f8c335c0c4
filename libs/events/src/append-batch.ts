import type { EventMetadata, NewEvent, StoredEvent } from '@ddnn/contracts';
import { formatCheckpoint } from './checkpoint';
import { newEventId } from './event-id';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The statement behind every append: `append_batch` (migrations/1764662400000-append-batch-fast-path.ts). */
export const APPEND_BATCH_SQL =
  'SELECT * FROM append_batch($1::text[], $2::integer[], $3::integer[], $4::bigint[], $5::integer[], $6::uuid[], $7::integer[], $8, $9::integer[], $10, $11)';

/** A request as encodeBatch reads it. */
export interface BatchRequest {
  streamId: string;
  events: NewEvent[];
}

/**
 * An encoded batch: the statement's parameters, and flat per-request and per-event arrays for decoding (one
 * batch holds up to thousands of single-event requests; objects per request would all live until their callers
 * are resolved, which the garbage collector pays for).
 */
export interface EncodedBatch {
  values: unknown[];
  /** Per request: index of its stream in the batch's distinct streams ($1). */
  reqStream: number[];
  /** Per request: how many events of its stream come earlier in the batch. */
  reqBefore: number[];
  /** Per request: index of its first event in the batch. */
  reqFirst: number[];
  /** Per event: its id (given or generated). */
  ids: string[];
  /** Per event: the schema version it is stored at. */
  versions: number[];
  /** Per event: its type, payload and metadata as the caller gave them (for the stored events). */
  types: string[];
  payloads: unknown[];
  metadata: (EventMetadata | undefined)[];
}

/**
 * Encodes requests as append_batch's parameters; expected[r] is request r's expectation in append_events' encoding
 * (NULL any, -1 no stream, -2 stream exists, n >= 0 that position). Integer and uuid arrays go as array literals
 * built here (ids are uuids, checked or generated): pg's generic array encoder escaped every element, a visible
 * share of the client's CPU at one event per request. Types, payloads and metadata go one per line
 * (JSON.stringify never writes a raw newline; types are catalogue names); each event is ranked within its stream.
 * Each event's fields are read once, here, where they are also checked (throws on a bad event): events come from
 * many literals, so every property read of theirs is a megamorphic lookup (in perf, megamorphic loads were about a
 * tenth of the writer's client CPU when the check, the encoding and the results each read them).
 */
export function encodeBatch(requests: BatchRequest[], expected: (number | null)[], schemaVersion: (type: string) => number): EncodedBatch {
  const streamIndex = new Map<string, number>();
  const streams: string[] = [];
  const counts: number[] = [];
  const reqStream: number[] = [];
  const reqBefore: number[] = [];
  const reqFirst: number[] = [];
  const req: number[] = [];
  const ids: string[] = [];
  const ranks: number[] = [];
  const types: string[] = [];
  const versions: number[] = [];
  const payloads: unknown[] = [];
  const metas: (EventMetadata | undefined)[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  for (let r = 0; r < requests.length; r++) {
    const { streamId, events } = requests[r];
    let s = streamIndex.get(streamId);
    if (s === undefined) {
      s = streams.length;
      streamIndex.set(streamId, s);
      streams.push(streamId);
      counts.push(0);
    }
    reqStream.push(s);
    reqBefore.push(counts[s]);
    reqFirst.push(ids.length);
    for (const event of events) {
      if (!event || typeof event.type !== 'string') throw new Error(`append to ${streamId}: every event needs a type`);
      const { type, data: payload, eventId, metadata: meta } = event;
      if (payload === null || typeof payload !== 'object') throw new Error(`append to ${streamId}: ${type} needs a data object`);
      if (eventId !== undefined && !UUID.test(eventId)) throw new Error(`append to ${streamId}: eventId '${eventId}' of ${type} is not a uuid`);
      req.push(r + 1);
      ids.push(eventId ?? newEventId());
      ranks.push(++counts[s]);
      types.push(type);
      versions.push(schemaVersion(type));
      payloads.push(payload);
      metas.push(meta ?? undefined);
      data.push(JSON.stringify(payload));
      metadata.push(meta == null ? '{}' : JSON.stringify(meta));
    }
  }
  const values = [
    streams,
    `{${counts.join(',')}}`,
    `{${reqStream.map((s) => s + 1).join(',')}}`,
    `{${expected.map((e) => (e === null ? 'NULL' : e)).join(',')}}`,
    `{${req.join(',')}}`,
    `{${ids.join(',')}}`,
    `{${ranks.join(',')}}`,
    types.join('\n'),
    `{${versions.join(',')}}`,
    data.join('\n'),
    metadata.join('\n'),
  ];
  return { values, reqStream, reqBefore, reqFirst, ids, versions, types, payloads, metadata: metas };
}

/** Request r's stored events when the fast path wrote the batch (one row: stream positions before it, global positions in event order). */
export function decodeFastPath(
  batch: EncodedBatch,
  r: number,
  request: BatchRequest,
  streamBases: string[],
  globalPositions: string[],
  transactionId: string,
  createdAt: string,
): { start: number; events: StoredEvent[] } {
  const start = Number(streamBases[batch.reqStream[r]]) + batch.reqBefore[r];
  const first = batch.reqFirst[r];
  const n = request.events.length;
  const events = new Array<StoredEvent>(n);
  for (let j = 0; j < n; j++) {
    const k = first + j;
    const globalPosition = globalPositions[k];
    events[j] = {
      type: batch.types[k],
      data: batch.payloads[k],
      eventId: batch.ids[k],
      streamId: request.streamId,
      streamPosition: start + j + 1,
      globalPosition,
      checkpoint: formatCheckpoint(transactionId, globalPosition),
      schemaVersion: batch.versions[k],
      metadata: batch.metadata[k] ?? ({} as EventMetadata),
      createdAt,
    } as StoredEvent;
  }
  return { start, events };
}
