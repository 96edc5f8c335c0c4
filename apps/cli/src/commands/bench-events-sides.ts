import { pipeline } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { NewEvent } from '@ddnn/contracts';
import { BatchingWriter, type EventStore, newEventId } from '@ddnn/events';
import type { Pool } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { log } from '../log';

// bench:events' workload and its two measured sides: the batching writer, and COPY into plain and indexed tables.

/** One append call: consecutive events of one stream. */
export interface Append {
  streamId: string;
  events: NewEvent[];
}

/**
 * Events shaped like a session's hot path (a sample's device and local sections, exit decisions, its messages), with ids as the store
 * generates them, event i on stream i mod streams; each stream's events go in appends of `perAppend`, in order.
 */
export function makeWorkload(n: number, streams: number, perAppend: number, runs: 'session' | 'stream'): Append[] {
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

export const eventCount = (work: Append[]) => work.reduce((n, a) => n + a.events.length, 0);

/**
 * The writer under a closed-loop load: `inFlight` appends await their commit at once and each
 * resolution starts the next, as the session runner keeps a window of samples committing. With all of a round's
 * appends issued at once, their 10,000s of pending promises and results were promoted by the collector (2-4 us an
 * event of client CPU in a scratch harness, which no producer of the platform pays). The average batch is
 * printed: it stays full.
 */
export async function timeWriter(store: EventStore, work: Append[], batchSize: number, lanes: number, inFlight: number, fences?: Map<string, number>): Promise<number> {
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
export async function timeCopy(pool: Pool, work: Append[], table: string, batch?: number): Promise<number> {
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
