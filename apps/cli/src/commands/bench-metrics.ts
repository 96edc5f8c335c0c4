import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { MetricName } from '@ddnn/contracts';
import {
  estimateExits,
  estimateSeries,
  mergeCells,
  metricFields,
  readRollup,
  readRollupTexts,
  referenceModel,
  runMigrations,
  seriesPoints,
  writeRollupCells,
  type RollupCell,
} from '@ddnn/events';
import { CONFIDENCE_BINS, ENTROPY_BINS, latencyBin, stratifiedBin, stratumKey, unitBin } from '@ddnn/policies';
import { Client, Pool } from 'pg';
import { log } from '../log';
import { median, round } from '../stats';
import { serverUrl, withDatabase } from './bench-database';

export interface BenchMetricsFlags {
  days: number;
  rounds: number;
  json?: boolean;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** A deterministic generator, so every run seeds the same rollup. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Classes of the seeded stream's model (the default dataset's: car, bus, person). */
const CLASSES = 3;

/**
 * `n` confidences around `centre` keyed as the live rollup keys them: per predicted class and device agreement
 * (most samples agreed), so a cell holds as many keys as a real one.
 */
function confidences(r: () => number, n: number, centre: number, spread: number): Record<string, number> {
  const h: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const x = Math.min(0.999, Math.max(0, centre + spread * (r() - 0.5)));
    const k = stratifiedBin(stratumKey(Math.floor(r() * CLASSES), r() < 0.9), unitBin(x, CONFIDENCE_BINS));
    h[k] = (h[k] ?? 0) + 1;
  }
  return h;
}

/** A labelled reference run's confidences: as a stream's, and right more often where confident. */
function referenceCell(r: () => number): RollupCell {
  const labelled = { local: confidences(r, 3000, 0.85, 0.3), cloud: confidences(r, 700, 0.7, 0.5) };
  const correct = (h: Record<string, number>) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Math.round(v * Math.min(1, 0.3 + 0.7 * (Number(k.split(':')[2]) / CONFIDENCE_BINS) + 0.1 * r()))]));
  return { ...minuteCell(r), confidenceLabelled: labelled, confidenceCorrect: { local: correct(labelled.local), cloud: correct(labelled.cloud) }, labelled: 3700 };
}

/** One busy minute of a six-camera stream at 5 samples/s: every histogram filled as a live run fills it. */
function minuteCell(r: () => number): RollupCell {
  const samples = 300;
  const local = Math.round(samples * (0.8 + 0.1 * r()));
  const hist = (bins: number, n: number, centre: number, spread: number) => {
    const h: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const x = Math.min(0.999, Math.max(0, centre + spread * (r() - 0.5)));
      const k = String(Math.floor(x * bins));
      h[k] = (h[k] ?? 0) + 1;
    }
    return h;
  };
  const latency: Record<string, number> = {};
  for (let i = 0; i < samples * 6; i += 6) {
    const k = String(latencyBin(5 + 40 * r() * r()));
    latency[k] = (latency[k] ?? 0) + 6;
  }
  return {
    samples,
    decided: samples,
    exits: { local, cloud: samples - local },
    entropy: { local: hist(ENTROPY_BINS, samples, 0.4, 0.8), cloud: hist(ENTROPY_BINS, samples - local, 0.3, 0.6) },
    confidence: { local: confidences(r, local, 0.85, 0.3), cloud: confidences(r, samples - local, 0.7, 0.5) },
    answered: samples * 6 - 12,
    missed: 12,
    missedBy: { timeout: 10, skipped: 2 },
    latency,
    sectionEntropy: hist(ENTROPY_BINS, samples * 6, 0.5, 0.9),
    agreeN: samples * 6,
    agree: Math.round(samples * 6 * 0.9),
    messages: samples * 7,
    bytes: samples * 6 * 12 + (samples - local) * 6 * 32,
  };
}

const QUERIES: MetricName[] = ['samples_per_second', 'exit_rate_local', 'entropy_p95_local', 'device_latency_p95', 'accuracy_estimated'];

/**
 * `ddnn bench metrics`: seeds `days` of one-minute (and hourly) rollup cells for one stream, then measures the
 * chart query the Monitoring page makes, `days` at one-minute steps, read and computed as MetricsService does
 * (readRollup, then seriesPoints; an estimate: readRollupTexts into estimateSeries). Medians over the rounds; the hourly read of the same window beside it.
 */
export async function runBenchMetricsCommand(flags: BenchMetricsFlags): Promise<void> {
  const server = await serverUrl();
  const dbName = `ddnn_bench_metrics_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = withDatabase(server.url, dbName);
  const pool = new Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  try {
    await runMigrations(url);
    const r = rng(7);
    const to = Math.floor(Date.now() / HOUR) * HOUR;
    const from = to - flags.days * 24 * HOUR;
    const seedStart = performance.now();
    const hourly = new Map<number, RollupCell>();
    let rows = 0;
    for (let chunkStart = from; chunkStart < to; chunkStart += 6 * HOUR) {
      const cells: RollupCell[] = [];
      const buckets: number[] = [];
      for (let t = chunkStart; t < Math.min(to, chunkStart + 6 * HOUR); t += MINUTE) {
        const cell = minuteCell(r);
        buckets.push(t);
        cells.push(cell);
        const h = Math.floor(t / HOUR) * HOUR;
        hourly.set(h, mergeCells(hourly.get(h) ?? {}, structuredClone(cell)));
      }
      await writeRollupCells(pool, cells.map((cell, i) => ({ resolution: MINUTE, bucket: buckets[i], runId: 'bench-stream', scope: 'run', key: '', cell })));
      rows += buckets.length;
    }
    await writeRollupCells(pool, [...hourly].map(([bucket, cell]) => ({ resolution: HOUR, bucket, runId: 'bench-stream', scope: 'run', key: '', cell })));
    // A labelled reference run for the estimate: one hour, its labels known.
    const refCell = referenceCell(r);
    await writeRollupCells(pool, [{ resolution: HOUR, bucket: from - HOUR, runId: 'bench-reference', scope: 'run', key: '', cell: refCell }]);
    await pool.query('ANALYZE metric_rollups');
    const seedMs = performance.now() - seedStart;
    log(`bench metrics: seeded ${rows} one-minute cells (${flags.days} days) and ${hourly.size} hourly ones in ${(seedMs / 1000).toFixed(1)} s`);

    const measure = async (metric: MetricName, resolution: number, step: number) => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const { fields, referenceFields } = metricFields(metric);
      // As MetricsService does: the reference run's whole cell, then the subject's cells.
      const referenceCells = referenceFields.length
        ? await readRollup(pool, { resolution: HOUR, scope: 'run', key: '', runId: 'bench-reference', from: 0, to: Number.MAX_SAFE_INTEGER, fields: [...referenceFields] })
        : [];
      const read = { resolution, scope: 'run' as const, key: '', runId: 'bench-stream', from, to };
      // An estimate scans its histograms' stored texts; the other metrics read parsed cells.
      const exits = estimateExits(metric);
      const reference = referenceFields.length ? referenceModel('bench-reference', referenceCells.reduce((acc, c) => mergeCells(acc, c.cell), {} as RollupCell)) : null;
      // An estimate is computed as the rows arrive: its read and compute are one.
      let points;
      let t1: number;
      if (exits) {
        const series = estimateSeries(metric, from, to, step, reference);
        await readRollupTexts(pool, read, 'confidence', exits, series.add);
        t1 = performance.now();
        points = series.points();
      } else {
        const cells = await readRollup(pool, { ...read, fields });
        t1 = performance.now();
        points = seriesPoints(metric, cells, from, to, step, reference);
      }
      const t2 = performance.now();
      // The REST answer is this series as JSON: its serialisation is part of answering.
      const bytes = JSON.stringify(points).length;
      const t3 = performance.now();
      // This process's CPU over the query (not the database's): what a loaded machine's wall clock hides.
      const cpu = process.cpuUsage(cpu0);
      return { total: t3 - t0, read: t1 - t0, compute: t2 - t1, serialise: t3 - t2, cpu: (cpu.user + cpu.system) / 1000, points: points.length, bytes };
    };
    /** The estimate from the stored texts must equal the one from the parsed cells, or its timing means nothing. */
    const checkEstimate = async (metric: MetricName) => {
      const exits = estimateExits(metric);
      if (!exits) return;
      const read = { resolution: MINUTE, scope: 'run' as const, key: '', runId: 'bench-stream', from, to };
      const reference = referenceModel('bench-reference', refCell);
      const series = estimateSeries(metric, from, to, MINUTE, reference);
      await readRollupTexts(pool, read, 'confidence', exits, series.add);
      const scanned = series.points();
      const parsed = seriesPoints(metric, await readRollup(pool, { ...read, fields: metricFields(metric).fields }), from, to, MINUTE, reference);
      const off = parsed.findIndex((p, i) => (['value', 'low', 'high', 'n'] as const).some((k) => Math.abs((p[k] ?? -1) - (scanned[i][k] ?? -1)) > 1e-9));
      if (scanned.length !== parsed.length || off >= 0) throw new Error(`bench metrics: ${metric} from texts differs from the parsed cells at point ${off}`);
    };
    const result: Record<string, unknown> = {};
    for (const metric of QUERIES) {
      await checkEstimate(metric);
      await measure(metric, MINUTE, MINUTE); // warm the cache and the plan
      const minute: Awaited<ReturnType<typeof measure>>[] = [];
      const hourlyRuns: Awaited<ReturnType<typeof measure>>[] = [];
      for (let i = 0; i < flags.rounds; i++) {
        minute.push(await measure(metric, MINUTE, MINUTE));
        hourlyRuns.push(await measure(metric, HOUR, HOUR));
      }
      const m = (xs: Awaited<ReturnType<typeof measure>>[], k: 'total' | 'read' | 'compute' | 'serialise' | 'cpu') => round(median(xs.map((x) => x[k])));
      result[metric] = {
        points: minute[0].points,
        bytes: minute[0].bytes,
        minuteMs: m(minute, 'total'),
        readMs: m(minute, 'read'),
        computeMs: m(minute, 'compute'),
        serialiseMs: m(minute, 'serialise'),
        cpuMs: m(minute, 'cpu'),
        hourlyMs: m(hourlyRuns, 'total'),
      };
      log(`bench metrics: ${metric}: ${flags.days} days at one minute ${m(minute, 'total')} ms (read ${m(minute, 'read')}, compute ${m(minute, 'compute')}, JSON ${m(minute, 'serialise')}; CPU ${m(minute, 'cpu')}); hourly ${m(hourlyRuns, 'total')} ms`);
    }
    const worst = Math.max(...QUERIES.map((q) => (result[q] as { minuteMs: number }).minuteMs));
    const out = {
      bench: 'metrics',
      days: flags.days,
      minuteCells: rows,
      rounds: flags.rounds,
      targetMs: 200,
      worstMinuteMs: worst,
      meetsTarget: worst < 200,
      queries: result,
      loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
      cpus: os.cpus().length,
      database: server.embedded ? 'embedded' : 'TEST_DATABASE_URL',
    };
    if (flags.json) process.stdout.write(JSON.stringify(out) + '\n');
    else process.stdout.write(`worst 7-day one-minute query: ${worst} ms (target < 200 ms)\n`);
  } finally {
    await pool.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await server.stop();
  }
}
