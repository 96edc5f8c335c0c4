import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import { answersSample, isDeviceMiss, sampleTraffic, streamIds, TRAFFIC_EVENT_TYPES, type ExitDecided, type ExportWhat, type ExitTier, type RunKind, type SampleTraffic, type SessionSummary } from '@ddnn/contracts';
import { csvLine, exportEventsCsv, sessionSummariesByIds, type EventStore } from '@ddnn/events';
import { Database } from '../database/database';
import { SessionStore } from '../orchestrator/session-store';

const SAMPLE_COLUMNS = [
  'sample_index',
  'sample_id',
  'label',
  'exit_tier',
  'prediction',
  'correct',
  'local_entropy',
  'edge_entropy',
  'cloud_entropy',
  'devices_missed_scores',
  'devices_missed_features',
  'devices_not_captured',
  'bytes',
  'shadow_bytes',
];

const SESSION_COLUMNS = [
  'id',
  'status',
  'mode',
  'model_id',
  'dataset',
  'split',
  'live_policy',
  'sample_count',
  'samples_done',
  'created_at',
  'started_at',
  'finished_at',
  'samples_finished',
  'accuracy',
  'local_exit_rate',
  'bytes_per_sample',
];

interface SampleRow {
  sampleId: string;
  label: number | null;
  exitTier: string | null;
  prediction: number | null;
  entropy: Partial<Record<ExitTier, number>>;
  /** Device misses (timeouts, errors, invalid replies), as the dashboard counts them. */
  missedScores: number;
  missedFeatures: number;
  /** Skipped captures: the camera captured nothing, so nothing was asked of it (not a miss of the device). */
  notCaptured: number;
  bytes: number;
  shadowBytes: number;
}

/** The sample's answer: its first ExitDecided that answersSample (payloads come in stream order). */
function recordAnswer(row: SampleRow, d: ExitDecided): void {
  if (row.exitTier !== null || !answersSample(d)) return;
  row.exitTier = d.tier;
  row.prediction = d.prediction;
}

const SESSIONS_PAGE = 500;
/** Payloads parsed at once while folding samples: the API's memory holds one page on top of the samples' rows. */
const PAYLOAD_PAGE = { pageSize: 10_000 };
/** A byte stream (not one of objects, 16 deep): back-pressure holds about one page of CSV in memory. */
const BYTES = { objectMode: false, highWaterMark: 1 << 20 };

/**
 * CSV exports streamed out of the event log through @ddnn/events (payloads upcast to current versions):
 * events by exportEventsCsv (Postgres' COPY when nothing needs upcasting) with back-pressure, so a
 * million-event session never sits in memory; samples folded
 * per sample from the payloads of five event types; sessions from the sessions table and the session
 * summaries projection (which lags the log by its subscription's poll: see docs/events.md).
 */
@Injectable()
export class CsvExport {
  private readonly store: EventStore;

  constructor(
    private readonly db: Database,
    private readonly sessionsTable: SessionStore,
  ) {
    this.store = db.store;
  }

  /** Streams a run's samples or events as CSV (with a header line) into `out`. */
  run(kind: RunKind, runId: string, what: ExportWhat, out: Writable): Promise<void> {
    const stream = streamIds.run(kind, runId);
    if (what === 'events') return exportEventsCsv(this.store, stream, out);
    return pipeline(Readable.from(this.samplesCsv(stream), BYTES), out);
  }

  /** Streams every session with its live outcome as CSV into `out`. */
  sessions(out: Writable): Promise<void> {
    return pipeline(Readable.from(this.sessionsCsv(), BYTES), out);
  }

  private async *samplesCsv(stream: string): AsyncGenerator<string> {
    const rows = new Map<number, SampleRow>();
    for await (const page of this.store.payloadsByType(stream, 'SampleStarted', PAYLOAD_PAGE)) {
      for (const { data: d } of page) {
        rows.set(d.sampleIndex, { sampleId: d.sampleId, label: d.label, exitTier: null, prediction: null, entropy: {}, missedScores: 0, missedFeatures: 0, notCaptured: 0, bytes: 0, shadowBytes: 0 });
      }
    }
    for await (const page of this.store.payloadsByType(stream, 'ExitDecided', PAYLOAD_PAGE)) {
      for (const { data: d } of page) {
        const row = rows.get(d.sampleIndex);
        if (!row) continue;
        recordAnswer(row, d);
        const eta = row.entropy[d.tier];
        if (typeof d.eta === 'number' && (eta === undefined || d.eta > eta)) row.entropy[d.tier] = d.eta;
      }
    }
    for await (const page of this.store.payloadsByType(stream, 'DeviceMissed', PAYLOAD_PAGE)) {
      for (const { data: d } of page) {
        const row = rows.get(d.sampleIndex);
        if (!row) continue;
        if (!isDeviceMiss(d.reason)) row.notCaptured++;
        else if (d.stage === 'scores') row.missedScores++;
        else row.missedFeatures++;
      }
    }
    // A run logged before MessagesTransferred has a BytesTransferred per message instead (one resumed across the change, both).
    for (const type of TRAFFIC_EVENT_TYPES) {
      for await (const page of this.store.payloadsByType(stream, type, PAYLOAD_PAGE)) {
        for (const e of page) {
          const t = sampleTraffic(e) as SampleTraffic;
          const row = rows.get(t.sampleIndex);
          if (!row) continue;
          for (const m of t.messages) {
            if (m.shadow) row.shadowBytes += m.bytes;
            else row.bytes += m.bytes;
          }
        }
      }
    }
    yield csvLine(SAMPLE_COLUMNS);
    const indices = [...rows.keys()].sort((a, b) => a - b);
    for (let i = 0; i < indices.length; i += 1000) {
      let chunk = '';
      for (const index of indices.slice(i, i + 1000)) {
        const r = rows.get(index) as SampleRow;
        // true/false, as analysis tools read a boolean column (csvField writes COPY's t/f, for the events export).
        const correct = r.label === null || r.prediction === null ? null : String(r.label === r.prediction);
        chunk += csvLine([
          index,
          r.sampleId,
          r.label,
          r.exitTier,
          r.prediction,
          correct,
          r.entropy.local,
          r.entropy.edge,
          r.entropy.cloud,
          r.missedScores,
          r.missedFeatures,
          r.notCaptured,
          r.bytes,
          r.shadowBytes,
        ]);
      }
      yield chunk;
    }
  }

  private async *sessionsCsv(): AsyncGenerator<string> {
    yield csvLine(SESSION_COLUMNS);
    for (let offset = 0; ; offset += SESSIONS_PAGE) {
      const { items } = await this.sessionsTable.list({ limit: SESSIONS_PAGE, offset });
      const summaries = await sessionSummariesByIds(this.db.pool, items.map((s) => s.id));
      let chunk = '';
      for (const s of items) {
        const sum: SessionSummary | undefined = summaries.get(s.id);
        const decided = sum?.samplesDecided ?? 0;
        chunk += csvLine([
          s.id,
          s.status,
          s.mode,
          s.modelId,
          s.dataset,
          s.split,
          JSON.stringify(s.policy),
          s.sampleCount,
          s.samplesDone,
          s.createdAt,
          s.startedAt,
          s.finishedAt,
          decided,
          sum?.accuracy ?? null,
          decided ? (sum as SessionSummary).exits.local.exited / decided : null,
          sum?.bytes.perSample ?? null,
        ]);
      }
      yield chunk;
      if (items.length < SESSIONS_PAGE) return;
    }
  }
}
