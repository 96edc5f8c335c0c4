import type { StoredEvent } from '@ddnn/contracts';
import { types as pgTypes } from 'pg';
import { APPEND_BATCH_SQL, decodeFastPath, encodeBatch, fastPathStart, type EncodedBatch } from './append-batch';
import { formatCheckpoint } from './checkpoint';
import { ConcurrencyError, EventIdReuseError, FencedAppendError } from './errors';
import type { AppendOutcome, AppendRequest, AppendResult, Queryable } from './store-types';

/**
 * Appends several requests (any streams) in one statement, hence one transaction, and tells the subscribers once
 * something was written (`notify`: after the commit on the pool, or within the caller's transaction). A request
 * refused by its expectation or its fence, or refused before sending because the store cannot write it (see
 * encodeBatch), is reported in its outcome only. `committed`, when given (appends on the pool: committed when the statement
 * returns), receives the events the fast path wrote, in log order, as a read returns them.
 */
export async function appendBatch(
  requests: AppendRequest[],
  schemaVersion: (type: string) => number,
  db: Queryable,
  notify: () => unknown,
  committed?: (events: StoredEvent[]) => void,
): Promise<AppendOutcome[]> {
  if (requests.length === 0) return [];
  const batch = encodeBatch(requests, schemaVersion);
  if (batch.sent.length === 0) return appendOutcomes(requests, batch, []);
  const result = await db.query<AppendRow>({ name: 'ddnn_append_batch', text: APPEND_BATCH_SQL, values: batch.values, types: RAW_APPEND_TYPES });
  if (result.rows.some((row) => row.status === 'fenced')) return appendAroundFenced(requests, batch, result.rows, (rest) => appendBatch(rest, schemaVersion, db, notify, committed));
  if (result.rows.some((row) => row.status === 'ok' && row.global_positions !== null)) await notify();
  return appendOutcomes(requests, batch, result.rows, committed);
}

/** A row of append_batch (append_events' row type) with the bigint arrays and the timestamp left as text (see RAW_APPEND_TYPES). */
interface AppendRow {
  req: number;
  status: 'ok' | 'duplicate' | 'conflict' | 'partial' | 'fenced';
  current_position: string | null;
  stream_positions: string | null;
  global_positions: string | null;
  event_ids: string[] | null;
  transaction_id: string | null;
  created_at: string | null;
}

const INT8_ARRAY_OID = 1016;
const TIMESTAMPTZ_OID = 1184;
// A batch of single-event requests returns one row per request: pg's generic array parser and a Date per row
// cost more client CPU than the rest of the append, so bigint arrays are split here and timestamps parsed once.
const RAW_APPEND_TYPES = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_ARRAY_OID || oid === TIMESTAMPTZ_OID ? (v: string) => v : pgTypes.getTypeParser(oid, format as 'text')) as typeof pgTypes.getTypeParser,
};

const parseTimestamptz = pgTypes.getTypeParser(TIMESTAMPTZ_OID, 'text');

/** Elements of a bigint[] in text form ('{1,2,3}'; bigints are never quoted). */
function int8Array(text: string): string[] {
  return text.length > 2 ? text.slice(1, -1).split(',') : [];
}

/**
 * append_batch wrote nothing: some streams' fences are stale (a row each, req = the stream's index). Their fenced
 * requests are refused and the others sent again (`again`), so that one run taken over by another node does not fail
 * the other runs' events batched with its own; each round refuses one request at least, so it ends.
 */
async function appendAroundFenced(
  requests: AppendRequest[],
  batch: EncodedBatch,
  rows: AppendRow[],
  again: (rest: AppendRequest[]) => Promise<AppendOutcome[]>,
): Promise<AppendOutcome[]> {
  const out = batch.refused.map((error): AppendOutcome | undefined => (error ? { ok: false, error } : undefined));
  const stale = new Map<number, number | null>();
  for (const row of rows) if (row.status === 'fenced') stale.set(row.req - 1, row.current_position === null ? null : Number(row.current_position));
  batch.sent.forEach((index, i) => {
    const r = requests[index];
    const s = batch.reqStream[i];
    if (r.fence !== undefined && stale.has(s)) out[index] = { ok: false, error: new FencedAppendError(r.streamId, r.fence, stale.get(s) as number | null) };
  });
  const rest: number[] = [];
  out.forEach((o, i) => o === undefined && rest.push(i));
  const outcomes = await again(rest.map((i) => requests[i]));
  rest.forEach((i, k) => (out[i] = outcomes[k]));
  return out as AppendOutcome[];
}

/** The callers' outcomes from append_batch's rows (the requests refused before sending included). */
function appendOutcomes(requests: AppendRequest[], batch: EncodedBatch, rows: AppendRow[], committed?: (events: StoredEvent[]) => void): AppendOutcome[] {
  const out = batch.refused.map((error): AppendOutcome | undefined => (error ? { ok: false, error } : undefined));
  const [first] = rows;
  if (rows.length === 1 && first.req === 0) {
    // The fast path: one row for the whole batch.
    const bases = int8Array(first.stream_positions as string);
    const globals = first.global_positions === null ? [] : int8Array(first.global_positions);
    const createdAt = (parseTimestamptz(first.created_at as string) as Date).toISOString();
    const txid = first.transaction_id as string;
    const asRead: StoredEvent[] = [];
    for (let i = 0; i < batch.sent.length; i++) {
      const r = requests[batch.sent[i]];
      const start = fastPathStart(batch, i, bases);
      // The stored events are built when read: the hot paths (the session and stream sinks) only await the commit.
      const result = { streamId: r.streamId, nextExpectedVersion: start + r.events.length, duplicate: false } as AppendResult;
      let events: StoredEvent[] | undefined;
      Object.defineProperty(result, 'events', { enumerable: true, get: () => (events ??= decodeFastPath(batch, i, r, start, globals, txid, createdAt)) });
      out[batch.sent[i]] = { ok: true, result };
      if (committed) for (const e of decodeFastPath(batch, i, r, start, globals, txid, createdAt, true)) asRead.push(e);
    }
    if (committed && asRead.length) committed(asRead);
    return out as AppendOutcome[];
  }
  const byReq = new Map<number, AppendRow>(rows.map((row) => [row.req, row]));
  const isoOf = new Map<string, string>();
  const iso = (t: string | null) => {
    if (t === null) return '';
    let v = isoOf.get(t);
    if (v === undefined) isoOf.set(t, (v = (parseTimestamptz(t) as Date).toISOString()));
    return v;
  };
  batch.sent.forEach((index, i) => {
    out[index] = slowOutcome(requests[index], i, batch, byReq.get(i + 1), iso);
  });
  return out as AppendOutcome[];
}

/** The outcome of the statement's request i from append_events' row for it. */
function slowOutcome(r: AppendRequest, i: number, batch: EncodedBatch, row: AppendRow | undefined, iso: (t: string | null) => string): AppendOutcome {
  if (!row) throw new Error(`append_events returned no row for request ${i + 1} (stream ${r.streamId})`);
  if (row.status === 'conflict') {
    return { ok: false, error: new ConcurrencyError(r.streamId, r.expectedVersion ?? 'any', Number(row.current_position)) };
  }
  if (row.status === 'partial') return { ok: false, error: new EventIdReuseError(r.streamId) };
  const first = batch.reqFirst[i];
  const base = Number(row.current_position ?? 0);
  const createdAt = iso(row.created_at);
  const streamPositions = row.stream_positions === null ? null : int8Array(row.stream_positions);
  const globalPositions = row.global_positions === null ? [] : int8Array(row.global_positions);
  // 'duplicate' returns the stored positions with their event ids; 'ok' the positions after base, in order.
  const storedIndex = row.event_ids ? new Map(row.event_ids.map((id, k) => [id, k])) : null;
  const stored = r.events.map((_, j): StoredEvent => {
    const e = first + j;
    const k = storedIndex ? (storedIndex.get(batch.ids[e]) as number) : j;
    const streamPosition = streamPositions ? Number(streamPositions[k]) : base + k + 1;
    const globalPosition = globalPositions[k];
    return {
      type: batch.types[e],
      data: batch.payloads[e],
      eventId: batch.ids[e],
      streamId: r.streamId,
      streamPosition,
      globalPosition,
      checkpoint: formatCheckpoint(row.transaction_id as string, globalPosition),
      schemaVersion: batch.versions[e],
      metadata: batch.metadata[e] ?? {},
      createdAt,
    } as StoredEvent;
  });
  const next = stored.length ? Math.max(...stored.map((x) => x.streamPosition)) : base;
  return { ok: true, result: { streamId: r.streamId, nextExpectedVersion: next, events: stored, duplicate: row.status === 'duplicate' } };
}

