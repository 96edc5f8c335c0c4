import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { NewEvent } from '@ddnn/contracts';
import { BatchingWriter, EventStore, ensureStreamPartitions, newEventId, runMigrations } from '@ddnn/events';
import { Client, Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { log } from '../log';
import { median, round } from '../stats';
import { databaseCpuMs, processCpuMs } from './bench-platform';
import { intFlag } from './model-options';

export interface BenchEventsOptions {
  events: string;
  batchSize: string;
  streams: string;
  lanes: string;
  rounds: string;
  eventsPerAppend: string;
  inFlight?: string;
  runs?: string;
  fenced?: boolean;
  json?: boolean;
}

interface RoundResult {
  eventsPerSecond: number;
  /** COPY into a plain table (the events' columns, no index): the server's ceiling, the issue's baseline. */
  copyRowsPerSecond: number;
  /** COPY into a table with the events table's four indexes (what the same rows cost with the store's indexes). */
  copyIndexedRowsPerSecond: number;
  /** COPY into the plain table in transactions of batch-size rows, one after another (what each commit costs). */
  copyBatchedRowsPerSecond: number;
  /** The database backends' CPU (user + system, /proc) per event written by the writer, in microseconds (NaN: the server is not on this machine). */
  dbCpuUsPerEvent: number;
  /** The same for the COPY into the indexed table: what the rows and the store's indexes cost the server at least. */
  copyIndexedDbCpuUsPerEvent: number;
  /** --fenced: the writer again, every append carrying its stream's fence (NaN without --fenced). */
  fencedEventsPerSecond: number;
  fencedDbCpuUsPerEvent: number;
}

/** The action of `ddnn bench events` (registered in ./bench). */
export async function runBenchEventsCommand(opts: BenchEventsOptions): Promise<void> {
  const result = await benchEvents({
    events: intFlag('--events', 100)(opts.events),
    batchSize: intFlag('--batch-size', 1)(opts.batchSize),
    streams: intFlag('--streams', 1)(opts.streams),
    lanes: intFlag('--lanes', 1)(opts.lanes),
    rounds: intFlag('--rounds', 1)(opts.rounds),
    eventsPerAppend: intFlag('--events-per-append', 1)(opts.eventsPerAppend),
    inFlight: opts.inFlight === undefined ? undefined : intFlag('--in-flight', 1)(opts.inFlight),
    runs: runsOption(opts.runs ?? 'session'),
    fenced: opts.fenced === true,
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      `batching writer: ${result.eventsPerSecond} events/s (batch ${result.batchSize}, ${result.lanes} lanes, ${result.eventsPerAppend} events per append)\n` +
        `COPY ceiling:    ${result.copyRowsPerSecond} rows/s into a plain table (ratio ${result.ratio})\n` +
        `COPY, indexed:   ${result.copyIndexedRowsPerSecond} rows/s into a table with the events' 4 indexes (ratio ${result.ratioIndexed})\n` +
        `COPY, batched:   ${result.copyBatchedRowsPerSecond} rows/s into the plain table, one transaction per ${result.batchSize} rows (ratio ${result.ratioBatched})\n` +
        `database CPU:    ${result.dbCpuUsPerEvent ?? '-'} us per event through the writer, ${result.copyIndexedDbCpuUsPerEvent ?? '-'} us per row by COPY with the same indexes (ratio ${result.dbCpuRatio ?? '-'})\n` +
        (result.fenced
          ? `fenced writer:   ${result.fenced.eventsPerSecond} events/s (ratio to the writer ${result.fenced.ratio}), ${result.fenced.dbCpuUsPerEvent ?? '-'} us database CPU per event (ratio ${result.fenced.dbCpuRatio ?? '-'})\n`
          : '') +
        `server:          ${result.server} (fsync ${result.fsync}, synchronous_commit ${result.synchronousCommit})\n`,
    );
  }
}

function runsOption(value: string): 'session' | 'stream' {
  if (value !== 'session' && value !== 'stream') throw new Error(`--runs must be session or stream, got '${value}'`);
  return value;
}

async function benchEvents(o: {
  events: number;
  batchSize: number;
  streams: number;
  lanes: number;
  rounds: number;
  eventsPerAppend: number;
  inFlight?: number;
  runs: 'session' | 'stream';
  fenced: boolean;
}) {
  const inFlight = o.inFlight ?? Math.ceil((5 * o.lanes * o.batchSize) / o.eventsPerAppend);
  const server = await serverUrl();
  const dbName = `ddnn_bench_events_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = withDatabase(server.url, dbName);
  const pool = new Pool({ connectionString: url, max: o.lanes + 1 });
  // An idle connection ended by the server (e.g. an administrator) must not crash the run.
  let closing = false;
  pool.on('error', (e) => closing || log(`bench events: idle connection error: ${e.message}`));
  admin.on('error', (e) => log(`bench events: admin connection error: ${e.message}`));
  try {
    await runMigrations(url);
    // Two tables with the events' columns: a plain one (the baseline) and one with the same four indexes as events.
    for (const table of ['copy_plain', 'copy_indexed']) {
      await pool.query(`CREATE TABLE ${table} (
        global_position bigint NOT NULL, stream_id text NOT NULL, stream_position bigint NOT NULL, event_id uuid NOT NULL,
        type text NOT NULL, schema_version integer NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(), transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id())`);
    }
    await pool.query(`ALTER TABLE copy_indexed ADD PRIMARY KEY (stream_id, stream_position), ADD UNIQUE (event_id)`);
    await pool.query(`CREATE INDEX ON copy_indexed (transaction_id, global_position)`);
    await pool.query(`CREATE INDEX ON copy_indexed (stream_id, type, stream_position)`);
    // Every round starts from empty tables, so there is nothing to vacuum; an autovacuum ANALYZE of the rows one
    // side wrote would otherwise run during the next side's timing.
    // Stream runs' events go to today's partition of the stream events (created as the API does at start-up).
    if (o.runs === 'stream') await ensureStreamPartitions(pool, { daysAhead: 1 });
    // events is partitioned: storage parameters are set on its partitions.
    const leaves = await pool.query<{ t: string }>(`SELECT relid::text AS t FROM pg_partition_tree('events') WHERE isleaf`);
    for (const table of [...leaves.rows.map((r) => r.t), 'streams', 'copy_plain', 'copy_indexed']) {
      await pool.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
    }
    const settings = await pool.query<{ fsync: string; sc: string; v: string }>(
      `SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc, current_setting('server_version') AS v`,
    );
    const { fsync, sc, v } = settings.rows[0];
    log(`bench events: PostgreSQL ${v} (${server.embedded ? 'embedded' : 'TEST_DATABASE_URL'}), fsync ${fsync}, synchronous_commit ${sc}`);
    if (fsync !== 'on' || sc === 'off') log('bench events: warning: this server does not flush commits to disk, the numbers are not durable rates');

    const store = new EventStore(pool);
    // The CPU the server's backends for this database spent while `side` ran (NaN when the server is elsewhere).
    const backendCpuMs = async () => {
      const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
      return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)] as [number, number]).filter(([, ms]) => Number.isFinite(ms)));
    };
    const withDbCpu = async (side: () => Promise<number>): Promise<{ rate: number; dbCpuMs: number }> => {
      const before = await backendCpuMs();
      const rate = await side();
      return { rate, dbCpuMs: databaseCpuMs(before, await backendCpuMs()) };
    };
    // One workload for every round, built before anything is timed (each round starts from empty tables, so its
    // event ids are new again).
    const workload = makeWorkload(o.events, o.streams, o.eventsPerAppend, o.runs);
    // --fenced: each stream's writer takes its token first, as a run's owner does, and every append carries it.
    const takeFences = async (): Promise<Map<string, number>> => {
      const fences = new Map<string, number>();
      for (const w of workload) if (!fences.has(w.streamId)) fences.set(w.streamId, await store.takeFence(w.streamId));
      return fences;
    };
    // Warm-up, one whole round not measured: connections, the optimised client code, and the server's plans (each
    // connection plans append_batch afresh for its first five calls; 2,000 events left some of them still doing so).
    await timeWriter(store, workload, o.batchSize, o.lanes, inFlight);
    if (o.fenced) {
      await store.truncateAll();
      await timeWriter(store, workload, o.batchSize, o.lanes, inFlight, await takeFences());
    }
    await timeCopy(pool, workload, 'copy_plain');
    await timeCopy(pool, workload, 'copy_indexed');
    await timeCopy(pool, workload, 'copy_plain', o.batchSize);
    const rounds: RoundResult[] = [];
    for (let r = 0; r < o.rounds; r++) {
      await store.truncateAll();
      await pool.query('TRUNCATE copy_plain, copy_indexed');
      // Alternate which side goes first, so that drifting machine load does not favour one side.
      let writer = { rate: 0, dbCpuMs: NaN };
      let fenced = { rate: NaN, dbCpuMs: NaN };
      // With --fenced both sides write the same events: each starts from an emptied log (their ids are new to it
      // again), the fenced one from fences taken before the timing.
      const timeWriterSide = async (withFences: boolean) => {
        if (o.fenced) await store.truncateAll();
        const fences = withFences ? await takeFences() : undefined;
        return withDbCpu(() => timeWriter(store, workload, o.batchSize, o.lanes, inFlight, fences));
      };
      if (o.fenced && r % 2 === 1) fenced = await timeWriterSide(true);
      if (r % 2 === 0) writer = await timeWriterSide(false);
      const copyRowsPerSecond = await timeCopy(pool, workload, 'copy_plain');
      const copyIndexed = await withDbCpu(() => timeCopy(pool, workload, 'copy_indexed'));
      await pool.query('TRUNCATE copy_plain');
      const copyBatchedRowsPerSecond = await timeCopy(pool, workload, 'copy_plain', o.batchSize);
      if (r % 2 === 1) writer = await timeWriterSide(false);
      if (o.fenced && r % 2 === 0) fenced = await timeWriterSide(true);
      const eventsPerSecond = writer.rate;
      const copyIndexedRowsPerSecond = copyIndexed.rate;
      const n = eventCount(workload);
      const dbCpuUsPerEvent = (writer.dbCpuMs * 1000) / n;
      const copyIndexedDbCpuUsPerEvent = (copyIndexed.dbCpuMs * 1000) / n;
      log(
        `round ${r + 1}/${o.rounds}: writer ${Math.round(eventsPerSecond)} events/s, COPY ${Math.round(copyRowsPerSecond)} rows/s ` +
          `(plain table), ${Math.round(copyIndexedRowsPerSecond)} rows/s (same indexes), ${Math.round(copyBatchedRowsPerSecond)} rows/s ` +
          `(plain, committed every ${o.batchSize}); ratio ${round(eventsPerSecond / copyRowsPerSecond, 3)}; database CPU ` +
          `${round(dbCpuUsPerEvent, 1)} us/event (writer), ${round(copyIndexedDbCpuUsPerEvent, 1)} us/event (COPY, same indexes)` +
          (o.fenced ? `; fenced writer ${Math.round(fenced.rate)} events/s, ${round((fenced.dbCpuMs * 1000) / n, 1)} us/event` : ''),
      );
      rounds.push({
        eventsPerSecond,
        copyRowsPerSecond,
        copyIndexedRowsPerSecond,
        copyBatchedRowsPerSecond,
        dbCpuUsPerEvent,
        copyIndexedDbCpuUsPerEvent,
        fencedEventsPerSecond: fenced.rate,
        fencedDbCpuUsPerEvent: (fenced.dbCpuMs * 1000) / n,
      });
    }
    // Medians over the rounds (the machine is shared); the ratio is the median of each round's own ratio.
    const eventsPerSecond = median(rounds.map((x) => x.eventsPerSecond));
    const copyRowsPerSecond = median(rounds.map((x) => x.copyRowsPerSecond));
    const copyIndexedRowsPerSecond = median(rounds.map((x) => x.copyIndexedRowsPerSecond));
    const copyBatchedRowsPerSecond = median(rounds.map((x) => x.copyBatchedRowsPerSecond));
    const dbCpuUsPerEvent = median(rounds.map((x) => x.dbCpuUsPerEvent));
    const copyIndexedDbCpuUsPerEvent = median(rounds.map((x) => x.copyIndexedDbCpuUsPerEvent));
    return {
      eventsPerSecond: Math.round(eventsPerSecond),
      copyRowsPerSecond: Math.round(copyRowsPerSecond),
      ratio: round(median(rounds.map((x) => x.eventsPerSecond / x.copyRowsPerSecond)), 3),
      batchSize: o.batchSize,
      copyIndexedRowsPerSecond: Math.round(copyIndexedRowsPerSecond),
      ratioIndexed: round(median(rounds.map((x) => x.eventsPerSecond / x.copyIndexedRowsPerSecond)), 3),
      copyBatchedRowsPerSecond: Math.round(copyBatchedRowsPerSecond),
      ratioBatched: round(median(rounds.map((x) => x.eventsPerSecond / x.copyBatchedRowsPerSecond)), 3),
      // CPU, not wall time: what the server spends per event, which the machine's load barely moves.
      dbCpuUsPerEvent: Number.isFinite(dbCpuUsPerEvent) ? round(dbCpuUsPerEvent, 1) : null,
      copyIndexedDbCpuUsPerEvent: Number.isFinite(copyIndexedDbCpuUsPerEvent) ? round(copyIndexedDbCpuUsPerEvent, 1) : null,
      dbCpuRatio: Number.isFinite(dbCpuUsPerEvent) ? round(median(rounds.map((x) => x.dbCpuUsPerEvent / x.copyIndexedDbCpuUsPerEvent)), 3) : null,
      // What a fence costs the hot path: the fenced writer against the plain one of the same round.
      fenced: o.fenced ? fencedResult(rounds) : null,
      perRound: rounds.map((x) => ({
        eventsPerSecond: Math.round(x.eventsPerSecond),
        copyRowsPerSecond: Math.round(x.copyRowsPerSecond),
        copyIndexedRowsPerSecond: Math.round(x.copyIndexedRowsPerSecond),
        copyBatchedRowsPerSecond: Math.round(x.copyBatchedRowsPerSecond),
        ratio: round(x.eventsPerSecond / x.copyRowsPerSecond, 3),
        dbCpuUsPerEvent: round(x.dbCpuUsPerEvent, 1),
        copyIndexedDbCpuUsPerEvent: round(x.copyIndexedDbCpuUsPerEvent, 1),
      })),
      events: o.events,
      streams: o.streams,
      lanes: o.lanes,
      rounds: o.rounds,
      eventsPerAppend: o.eventsPerAppend,
      inFlight,
      runs: o.runs,
      server: `PostgreSQL ${v}${server.embedded ? ' (embedded)' : ''}`,
      fsync,
      synchronousCommit: sc,
    };
  } finally {
    // DROP DATABASE ... WITH (FORCE) may still meet sockets pool.end() is closing: expected, not worth a line.
    closing = true;
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    await server.stop();
  }
}

function fencedResult(rounds: RoundResult[]) {
  const dbCpu = median(rounds.map((x) => x.fencedDbCpuUsPerEvent));
  return {
    eventsPerSecond: Math.round(median(rounds.map((x) => x.fencedEventsPerSecond))),
    ratio: round(median(rounds.map((x) => x.fencedEventsPerSecond / x.eventsPerSecond)), 3),
    dbCpuUsPerEvent: Number.isFinite(dbCpu) ? round(dbCpu, 1) : null,
    dbCpuRatio: Number.isFinite(dbCpu) ? round(median(rounds.map((x) => x.fencedDbCpuUsPerEvent / x.dbCpuUsPerEvent)), 3) : null,
  };
}

/** One append call: consecutive events of one stream. */
interface Append {
  streamId: string;
  events: NewEvent[];
}

/**
 * Events shaped like a session's hot path (a sample's device and local sections, exit decisions, its messages), with ids as the store
 * generates them, event i on stream i mod streams; each stream's events go in appends of `perAppend`, in order.
 */
function makeWorkload(n: number, streams: number, perAppend: number, runs: 'session' | 'stream'): Append[] {
  const out: Append[] = [];
  const open = new Map<string, Append>();
  for (let i = 0; i < n; i++) {
    const s = i % streams;
    const sessionId = `bench-${s}`;
    const sampleIndex = Math.floor(i / streams / 3);
    const probabilities = Array.from({ length: 3 }, (_, k) => Math.round(((k + 1 + (i % 7)) / (6 + 3 * (i % 7))) * 1e4) / 1e4);
    const k = i % 3;
    const event: NewEvent =
      k === 0
        ? {
            type: 'SectionsEvaluated',
            data: {
              sessionId,
              sampleIndex,
              sections: [
                ...Array.from({ length: 6 }, (_, d) => ({ tier: 'device' as const, node: `dev-${d}`, view: d, probabilities, entropy: 0.42, latencyMs: 3.1, shadow: false })),
                { tier: 'local' as const, node: 'local', probabilities, entropy: 0.3, latencyMs: 0.2, shadow: false },
              ],
            },
          }
        : k === 1
          ? {
              type: 'MessagesTransferred',
              data: { sessionId, sampleIndex, messages: Array.from({ length: 6 }, (_, d) => ({ from: `dev-${d}`, to: 'local', kind: 'scores' as const, bytes: 12, shadow: false })) },
            }
          : {
              type: 'ExitDecided',
              data: { sessionId, sampleIndex, tier: 'local', eta: 0.8, threshold: 0.8, policy: 'entropy', exited: true, prediction: 1, label: 1, shadow: false },
            };
    const streamId = `${runs}-${sessionId}`;
    let append = open.get(streamId);
    if (!append || append.events.length === perAppend) {
      append = { streamId, events: [] };
      open.set(streamId, append);
      out.push(append);
    }
    append.events.push({ ...event, eventId: newEventId(), metadata: { node: 'bench' } });
  }
  return out;
}

const eventCount = (work: Append[]) => work.reduce((n, a) => n + a.events.length, 0);

/**
 * The writer under a closed-loop load: `inFlight` appends await their commit at once and each
 * resolution starts the next, as the session runner keeps a window of samples committing. With all of a round's
 * appends issued at once, their 10,000s of pending promises and results were promoted by the collector (2-4 us an
 * event of client CPU in a scratch harness, which no producer of the platform pays). The average batch is
 * printed: it stays full.
 */
async function timeWriter(store: EventStore, work: Append[], batchSize: number, lanes: number, inFlight: number, fences?: Map<string, number>): Promise<number> {
  await settleBeforeTiming();
  const writer = new BatchingWriter(store, { maxBatchEvents: batchSize, maxDelayMs: 5, lanes });
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  let next = 0;
  const producer = async () => {
    while (next < work.length) {
      const w = work[next++];
      await writer.append(w.streamId, w.events, fences ? { fence: fences.get(w.streamId) } : {});
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, work.length) }, producer));
  await writer.close();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  log(
    `  writer: ${writer.stats.batches} batches (average ${(writer.stats.events / writer.stats.batches).toFixed(1)} events, largest ${writer.stats.largestBatch}), ` +
      `${inFlight} appends in flight, client CPU ${((used.user + used.system) / 1e6).toFixed(2)} s in ${seconds.toFixed(2)} s`,
  );
  return eventCount(work) / seconds;
}

let gc: (() => void) | undefined;

/**
 * Before each timed side, a full collection and a pause: each side then pays for its own garbage and background
 * work only. Without the collection, the 10,000s of lines the COPY sides had built were collected during the
 * writer's timing, and the other way round. The pause lets what runs on after the previous side end first (V8
 * sweeps the collected heap on helper threads; the server's WAL writer and background writer flush what that side
 * wrote): in three interleaved pairs of runs at batch 100, without it the ratio was 0.035 lower each time.
 */
async function settleBeforeTiming(): Promise<void> {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  await delay(100);
}

/** COPY of the workload into `table`: one statement (one transaction), or one per `batch` rows in sequence. */
async function timeCopy(pool: Pool, work: Append[], table: string, batch?: number): Promise<number> {
  const client = await pool.connect();
  try {
    await settleBeforeTiming();
    const started = process.hrtime.bigint();
    const positions = new Map<string, number>();
    const lines: string[] = [];
    for (const w of work) {
      for (const e of w.events) {
        const p = (positions.get(w.streamId) ?? 0) + 1;
        positions.set(w.streamId, p);
        const cols = [lines.length + 1, w.streamId, p, e.eventId, e.type, 1, JSON.stringify(e.data), JSON.stringify(e.metadata ?? {})];
        lines.push(`${cols.map((c) => copyText(String(c))).join('\t')}\n`);
      }
    }
    const step = batch ?? lines.length;
    for (let i = 0; i < lines.length; i += step) {
      const copy = client.query(
        copyFrom(`COPY ${table} (global_position, stream_id, stream_position, event_id, type, schema_version, data, metadata) FROM STDIN`),
      );
      await pipeline(Readable.from(chunk(lines.slice(i, i + step), 1000)), copy);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return lines.length / seconds;
  } finally {
    client.release();
  }
}

function* chunk(lines: string[], n: number): Generator<string> {
  for (let i = 0; i < lines.length; i += n) yield lines.slice(i, i + n).join('');
}

/** COPY text format escapes. */
function copyText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

export function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** TEST_DATABASE_URL, or an embedded server started (and stopped) for this run. */
export async function serverUrl(): Promise<{ url: string; embedded: boolean; stop(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL) return { url: process.env.TEST_DATABASE_URL, embedded: false, stop: async () => undefined };
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'libs', 'testing', 'embedded-server.cjs'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('bench events: TEST_DATABASE_URL is not set and libs/testing/embedded-server.cjs was not found');
    dir = up;
  }
  log('bench events: TEST_DATABASE_URL not set, starting an embedded PostgreSQL');
  const { startTestServer } = createRequire(__filename)(path.join(dir, 'libs', 'testing', 'embedded-server.cjs')) as {
    startTestServer(): Promise<{ url: string; stop(): Promise<void> }>;
  };
  const s = await startTestServer();
  return { ...s, embedded: true };
}
