import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent, StoredEvent } from '@ddnn/contracts';
import { formatCheckpoint } from './checkpoint';

/** The statement behind every append: `append_batch` (migrations/1764662400000-append-batch-fast-path.ts). */
export const APPEND_BATCH_SQL =
  'SELECT * FROM append_batch($1::text[], $2::integer[], $3::integer[], $4::bigint[], $5::integer[], $6::uuid[], $7::integer[], $8, $9::integer[], $10, $11)';

/** One request of a batch as encoded: its stream, and where its events start among the batch's events of that stream. */
export interface EncodedRequest {
  streamId: string;
  /** Index of the request's stream in the batch's distinct streams ($1). */
  stream: number;
  /** Events of this stream earlier in the batch. */
  before: number;
  /** Index of the request's first event in the batch. */
  first: number;
  events: (NewEvent & { eventId: string })[];
  schemaVersions: number[];
}

/** The encoded batch: the statement's parameters and, per request, what decoding its result needs. */
export interface EncodedBatch {
  values: unknown[];
  requests: EncodedRequest[];
}

export interface BatchInput {
  streamId: string;
  events: NewEvent[];
  /** append_events' encoding: NULL any, -1 no stream, -2 stream exists, n >= 0 that position. */
  expected: number | null;
}

/**
 * Encodes requests as append_batch's parameters. Integer and uuid arrays go as array literals built here (ids are
 * uuids, checked or generated): pg's generic array encoder escaped every element, a visible share of the client's
 * CPU at one event per request. Types, payloads and metadata go one per line (JSON.stringify never writes a raw
 * newline; types are catalogue names); each event is ranked within its stream for the fast path.
 */
export function encodeBatch(inputs: BatchInput[], schemaVersion: (type: string) => number): EncodedBatch {
  const streamIndex = new Map<string, number>();
  const streams: string[] = [];
  const counts: number[] = [];
  const reqStream: number[] = [];
  const expected: string[] = [];
  const req: number[] = [];
  const ids: string[] = [];
  const ranks: number[] = [];
  const types: string[] = [];
  const versions: number[] = [];
  const data: string[] = [];
  const metadata: string[] = [];
  const requests: EncodedRequest[] = [];
  for (let r = 0; r < inputs.length; r++) {
    const { streamId, events, expected: e } = inputs[r];
    let s = streamIndex.get(streamId);
    if (s === undefined) {
      s = streams.length;
      streamIndex.set(streamId, s);
      streams.push(streamId);
      counts.push(0);
    }
    reqStream.push(s + 1);
    expected.push(e === null ? 'NULL' : String(e));
    const encoded: EncodedRequest = { streamId, stream: s, before: counts[s], first: ids.length, events: [], schemaVersions: [] };
    for (const event of events) {
      const eventId = event.eventId ?? randomUUID();
      const v = schemaVersion(event.type);
      req.push(r + 1);
      ids.push(eventId);
      ranks.push(++counts[s]);
      types.push(event.type);
      versions.push(v);
      data.push(JSON.stringify(event.data));
      metadata.push(event.metadata == null ? '{}' : JSON.stringify(event.metadata));
      encoded.events.push(event.eventId === eventId ? (event as NewEvent & { eventId: string }) : { ...event, eventId });
      encoded.schemaVersions.push(v);
    }
    requests.push(encoded);
  }
  const values = [
    streams,
    `{${counts.join(',')}}`,
    `{${reqStream.join(',')}}`,
    `{${expected.join(',')}}`,
    `{${req.join(',')}}`,
    `{${ids.join(',')}}`,
    `{${ranks.join(',')}}`,
    types.join('\n'),
    `{${versions.join(',')}}`,
    data.join('\n'),
    metadata.join('\n'),
  ];
  return { values, requests };
}

/** The results of a batch written by the fast path (one row: positions before the batch, global positions in event order). */
export function decodeFastPath(
  batch: EncodedBatch,
  streamBases: string[],
  globalPositions: string[],
  transactionId: string,
  createdAt: string,
): { streamId: string; nextExpectedVersion: number; events: StoredEvent[]; duplicate: false }[] {
  return batch.requests.map((r) => {
    const start = Number(streamBases[r.stream]) + r.before;
    const events = r.events.map((e, j): StoredEvent => {
      const globalPosition = globalPositions[r.first + j];
      return {
        type: e.type,
        data: e.data,
        eventId: e.eventId,
        streamId: r.streamId,
        streamPosition: start + j + 1,
        globalPosition,
        checkpoint: formatCheckpoint(transactionId, globalPosition),
        schemaVersion: r.schemaVersions[j],
        metadata: e.metadata ?? ({} as EventMetadata),
        createdAt,
      } as StoredEvent;
    });
    return { streamId: r.streamId, nextExpectedVersion: start + r.events.length, events, duplicate: false };
  });
}
