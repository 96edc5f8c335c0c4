import { randomBytes } from 'node:crypto';
import { ensureStreamPartitions, EventStore, runMigrations } from '@ddnn/events';
import { Client, Pool } from 'pg';
import { log } from '../log';
import { median, round } from '../stats';
import { serverUrl, withDatabase } from './bench-database';
import { eventCount, makeWorkload, timeCopy, timeWriter } from './bench-events-sides';
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
