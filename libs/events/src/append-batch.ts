import { type EventMetadata, isUuid, type StoredEvent } from '@ddnn/contracts';
import type { AppendRequest, ExpectedVersion } from './store-types';
import { formatCheckpoint } from './checkpoint';
import { FencedAppendError } from './errors';
import { newEventId } from './event-id';
import { expiresByAge, isUuidV7 } from './partitions';

/**
 * The statement behind every append: `append_batch` (migrations/1764662400000-append-batch-fast-path.ts,
 * 1765500000000-append-batch-branch-probes.ts, 1766000000000-stream-fences.ts).
 */
export const APPEND_BATCH_SQL =
  'SELECT * FROM append_batch($1::text[], $2::integer[], $3::integer[], $4::bigint[], $5::integer[], $6::uuid[], $7::integer[], $8, $9::integer[], $10, $11, ' +
  '$12::uuid[], $13::uuid, $14::uuid, $15::uuid[], $16::bigint[])';

/**
 * An encoded batch: the statement's parameters, and flat per-request and per-event arrays for decoding (one
 * batch holds up to thousands of single-event requests; objects per request would all live until their callers
 * are resolved, which the garbage collector pays for). Requests refused while encoding are not in the statement:
 * `sent` maps the statement's requests to the caller's.
 */
export interface EncodedBatch {
  values: unknown[];
  /** Per request of the statement: its index among the requests given. */
  sent: number[];
  /** Per request given: the error that refused it before sending (a bad event or expectation), else undefined. */
  refused: (Error | undefined)[];
  /** Per request of the statement: index of its stream in the batch's distinct streams ($1). */
  reqStream: number[];
  /** Per request of the statement: how many events of its stream come earlier in the batch. */
  reqBefore: number[];
  /** Per request of the statement: index of its first event in the batch. */
  reqFirst: number[];
  /** Per event: its id (given or generated). */
  ids: string[];
  /** Per event: the schema version it is stored at. */
  versions: number[];
  /** Per event: its type, payload and metadata as the caller gave them (for the stored events). */
  types: string[];
  payloads: unknown[];
  metadata: (EventMetadata | undefined)[];
  /** Per event: its payload and metadata as the JSON text sent (what the log stores). */
  dataJson: string[];
  metadataJson: string[];
}

/**
 * Encodes requests as append_batch's parameters. Integer and uuid arrays go as array literals built here (ids are
 * uuids, checked or generated): pg's generic array encoder escaped every element, a visible share of the client's
 * CPU at one event per request. Types, payloads and metadata go one per line (JSON.stringify never writes a raw
 * newline; types are catalogue names); each event is ranked within its stream.
 * Each request is checked as it is encoded, and one the store cannot write (a bad expectation, an event without a
 * catalogue type, a payload that is not a JSON object or holds what jsonb refuses) is left out with its error:
 * sent, it would fail the whole statement, hence every other request batched with it.
 * Each event's fields are read once, here: events come from many literals, so every property read of theirs is a
 * megamorphic lookup (in perf, megamorphic loads were about a tenth of the writer's client CPU when the check, the
 * encoding and the results each read them).
 */
export function encodeBatch(requests: readonly AppendRequest[], schemaVersion: (type: string) => number): EncodedBatch {
  const streamIndex = new Map<string, number>();
  const streams: string[] = [];
  const counts: number[] = [];
  const sent: number[] = [];
  const refused: (Error | undefined)[] = [];
  const expected: (number | null)[] = [];
  /** Per stream of the statement: its writers' token, or null (see fenceOf). */
  const fences: (number | null)[] = [];
  let fenced = false;
  const highest = highestFences(requests);
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
  /** Per event: whether it goes to the day partitions (events_stream) rather than events_kept. */
  const expiring: boolean[] = [];
  for (let r = 0; r < requests.length; r++) {
    const { streamId, events, expectedVersion, fence } = requests[r];
    const first = ids.length;
    let expires = false;
    let s = -1;
    let added = false;
    let before = 0;
    try {
      if (typeof streamId !== 'string' || streamId.length === 0) throw new Error('append: streamId must be a non-empty string');
      if (!Array.isArray(events)) throw new Error(`append to ${streamId}: events must be an array`);
      const e = encodeExpected(expectedVersion);
      if (fence !== undefined) fenceOf(streamId, fence, highest);
      expires = expiresByAge(streamId);
      s = streamIndex.get(streamId) ?? -1;
      if (s === -1) {
        s = streams.length;
        streamIndex.set(streamId, s);
        streams.push(streamId);
        counts.push(0);
        fences.push(null);
        added = true;
      }
      before = counts[s];
      const n = sent.length + 1;
      for (const event of events) {
        if (!event || typeof event.type !== 'string') throw new Error(`append to ${streamId}: every event needs a type`);
        const { type, data: payload, eventId, metadata: meta } = event;
        const version = schemaVersion(type);
        if (payload === null || typeof payload !== 'object') throw new Error(`append to ${streamId}: ${type} needs a data object`);
        if (eventId !== undefined && !isUuid(eventId)) {
          throw new Error(`append to ${streamId}: eventId '${eventId}' of ${type} is not a uuid`);
        }
        // Events of expiring streams are filed into day partitions by the time at the front of their id.
        if (eventId !== undefined && !isUuidV7(eventId) && expires) {
          throw new Error(`append to ${streamId}: eventId '${eventId}' of ${type} is not a UUIDv7 (newEventId()): a stream's events are filed by the time in their id`);
        }
        data.push(storableJson(payload, streamId, type, 'data'));
        metadata.push(meta == null ? '{}' : storableJson(meta, streamId, type, 'metadata'));
        req.push(n);
        ids.push(eventId ?? newEventId());
        ranks.push(++counts[s]);
        types.push(type);
        versions.push(version);
        payloads.push(payload);
        metas.push(meta ?? undefined);
        expiring.push(expires);
      }
      sent.push(r);
      refused.push(undefined);
      expected.push(e);
      if (fence !== undefined) {
        fences[s] = fence;
        fenced = true;
      }
      reqStream.push(s);
      reqBefore.push(before);
      reqFirst.push(first);
    } catch (error) {
      // Take back what this request added (a stream it introduced is the last one).
      refused.push(error instanceof Error ? error : new Error(String(error)));
      for (const a of [req, ids, ranks, types, versions, payloads, metas, data, metadata, expiring]) a.length = first;
      if (added) {
        streams.pop();
        counts.pop();
        fences.pop();
        streamIndex.delete(streamId);
      } else if (s !== -1) {
        counts[s] = before;
      }
    }
  }
  const probes = branchProbes(ids, expiring);
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
    `{${probes.kept.join(',')}}`,
    probes.keptLo,
    probes.keptHi,
    `{${probes.stream.join(',')}}`,
    // NULL when no request is fenced: append_batch then skips the fence check.
    fenced ? `{${fences.map((f) => (f === null ? 'NULL' : f)).join(',')}}` : null,
  ];
  return { values, sent, refused, reqStream, reqBefore, reqFirst, ids, versions, types, payloads, metadata: metas, dataJson: data, metadataJson: metadata };
}

/**
 * The ids append_batch looks up in the other partition branch, split by the branch each goes to, and the least and
 * greatest of those bound for events_kept (in uuid order, the order of their lower-case text), which confine their
 * probe into events_stream to the day partitions in between.
 */
function branchProbes(ids: readonly string[], expiring: readonly boolean[]): { kept: string[]; keptLo: string | null; keptHi: string | null; stream: string[] } {
  const kept: string[] = [];
  const stream: string[] = [];
  let keptLo: string | null = null;
  let keptHi: string | null = null;
  for (let k = 0; k < ids.length; k++) {
    if (expiring[k]) {
      stream.push(ids[k]);
      continue;
    }
    const id = ids[k].toLowerCase();
    kept.push(id);
    if (keptLo === null || id < keptLo) keptLo = id;
    if (keptHi === null || id > keptHi) keptHi = id;
  }
  return { kept, keptLo, keptHi, stream };
}

/** Per stream, the highest well-formed token the batch's requests carry. */
function highestFences(requests: readonly AppendRequest[]): Map<string, number> {
  const highest = new Map<string, number>();
  for (const { streamId, fence } of requests) {
    if (isToken(fence) && fence > (highest.get(streamId) ?? 0)) highest.set(streamId, fence);
  }
  return highest;
}

const isToken = (fence: unknown): fence is number => Number.isSafeInteger(fence) && (fence as number) >= 1;

/**
 * Checks a request's token: a token of takeFence, and the highest of the batch for its stream (append_batch checks
 * one token a stream). A lower one was taken before the higher one, so it is stale whatever the stream holds now.
 */
function fenceOf(streamId: string, fence: number, highest: Map<string, number>): void {
  if (!isToken(fence)) throw new Error(`append to ${streamId}: fence ${String(fence)} is not a token of takeFence`);
  const top = highest.get(streamId) as number;
  if (fence < top) throw new FencedAppendError(streamId, fence, top);
}

function encodeExpected(e: ExpectedVersion | undefined): number | null {
  if (e === undefined || e === 'any') return null;
  if (e === 'no_stream') return -1;
  if (e === 'stream_exists') return -2;
  if (Number.isInteger(e) && e >= 0) return e;
  throw new Error(`invalid expectedVersion ${JSON.stringify(e)}: use a stream position >= 0, 'any', 'no_stream' or 'stream_exists'`);
}

// A run of backslashes, then an escape jsonb refuses: \u0000, or a lone surrogate (well-formed JSON.stringify escapes those).
const REFUSED_ESCAPE = /\\+u(?:0000|d[89a-f][0-9a-f]{2})/g;

/** The value as JSON text PostgreSQL's jsonb accepts (a JSON object without \u0000 or lone surrogates), else throws. */
function storableJson(value: object, streamId: string, type: string, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (e) {
    throw new Error(`append to ${streamId}: the ${what} of ${type} cannot be written as JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof json !== 'string' || json.charCodeAt(0) !== 123 /* { */) {
    throw new Error(`append to ${streamId}: the ${what} of ${type} must serialize to a JSON object`);
  }
  if (json.includes('\\u')) {
    for (const m of json.matchAll(REFUSED_ESCAPE)) {
      // An odd run: its last backslash starts the escape (an even run is escaped backslashes followed by text).
      const slashes = m[0].indexOf('u');
      if (slashes % 2 === 1) {
        throw new Error(
          `append to ${streamId}: the ${what} of ${type} holds ${m[0].slice(slashes - 1)}, which PostgreSQL's jsonb cannot store ` +
            '(the character U+0000 or a lone UTF-16 surrogate)',
        );
      }
    }
  }
  return json;
}

/** The stream position before the statement's request r when the fast path wrote the batch (its row holds each stream's position before it). */
export function fastPathStart(batch: EncodedBatch, r: number, streamBases: string[]): number {
  return Number(streamBases[batch.reqStream[r]]) + batch.reqBefore[r];
}

/**
 * The stored events of the statement's request r when the fast path wrote the batch, after stream position `start`
 * (global positions in event order). `asRead`: payloads and metadata parsed from the JSON sent, as a read of the
 * log returns them (the log's shared tail hands them to every reader); else the caller's own objects.
 */
export function decodeFastPath(
  batch: EncodedBatch,
  r: number,
  request: AppendRequest,
  start: number,
  globalPositions: string[],
  transactionId: string,
  createdAt: string,
  asRead = false,
): StoredEvent[] {
  const first = batch.reqFirst[r];
  const n = request.events.length;
  const events = new Array<StoredEvent>(n);
  for (let j = 0; j < n; j++) {
    const k = first + j;
    const globalPosition = globalPositions[k];
    events[j] = {
      type: batch.types[k],
      data: asRead ? JSON.parse(batch.dataJson[k]) : batch.payloads[k],
      eventId: batch.ids[k],
      streamId: request.streamId,
      streamPosition: start + j + 1,
      globalPosition,
      checkpoint: formatCheckpoint(transactionId, globalPosition),
      schemaVersion: batch.versions[k],
      metadata: asRead ? JSON.parse(batch.metadataJson[k]) : (batch.metadata[k] ?? ({} as EventMetadata)),
      createdAt,
    } as StoredEvent;
  }
  return events;
}
