import os from 'node:os';
import path from 'node:path';
import { answersSample, MAX_STREAM_RATE, type CreateStreamRequest, type SessionEventsPage, type StreamView } from '@ddnn/contracts';
import { log } from '../log';
import { round } from '../stats';
import { databaseCpuMs, DATASET, processCpuMs, startBenchPlatform, type BenchPlatform } from './bench-platform';
import { modelOnlyRate } from './bench-session';
import { repoRoot } from './repo-root';

export interface BenchStreamFlags {
  model: string;
  threshold: number;
  /** How long a rate must be held (decision lag under the limit) to count. */
  seconds: number;
  /** The decision lag limit in ms. */
  lagMs: number;
  window?: number;
  /** Rates to try as given (samples/s), each for the whole window, instead of searching for the highest held. */
  rates?: number[];
  json?: boolean;
}

/** Rates tried, as fractions of the model-only rate, from the top until one is held. */
const FRACTIONS = [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05];
/** Triggers before the measured window (devices and pipeline warm up). */
const WARM_UP_SECONDS = 5;
/** How far into the window a trigger rate clearly below the one asked fails the attempt. */
const BEHIND_AFTER_MS = 5000;
/**
 * How long after its window should have ended an attempt may go on reading the log: past it the bench's own
 * reader (GET /streams/:id/events) is behind the stream, and the attempt ends unheld instead of reading on while
 * the stream grows (a run once read on for 15 minutes).
 */
const READ_BACK_GRACE_MS = 60_000;

/** One rate tried: whether it was held and what the log showed over the measured window. */
interface Attempt {
  rate: number;
  held: boolean;
  reason: string;
  samples: number;
  events: number;
  seconds: number;
  /** How long CPU was measured (from the window's start seen in the log to the attempt's end). */
  cpuSeconds: number;
  lagsMs: number[];
  /** Triggers per second over the window (the stream's own pacing, whatever was decided). */
  triggersPerSecond: number;
  /** CPU over the window, in cores: the API process (all threads) and the database backends serving it. */
  apiCores: number;
  /** The API's main thread alone (the engine, the log, HTTP); the rest of apiCores is mostly the device fleet's thread. */
  apiMainCores: number;
  dbCores: number;
  /** The machine's 1-minute load average at the end of the window (other processes share the cores). */
  load: number;
  /** What held this rate back: see limitOf. */
  limit: string;
}

/**
 * Why a rate was not held, from what the window measured: `cpu` when the API and its database used (nearly)
 * every core; `machine` when they did not but other processes kept the machine loaded past its cores (the
 * figure then says little about the platform); otherwise `triggers` (the stream could not pace its triggers
 * though CPU was left) or `lag` (decisions queued behind something other than CPU: the log's commits, the window).
 */
function limitOf(a: Pick<Attempt, 'held' | 'reason' | 'apiCores' | 'dbCores' | 'load'>): string {
  if (a.held) return 'none';
  const cores = os.cpus().length;
  if (a.apiCores + a.dbCores >= 0.85 * cores) return 'cpu';
  if (a.load >= cores) return 'machine';
  return /triggered/.test(a.reason) ? 'triggers' : 'lag';
}

/** The action of `ddnn bench stream` (registered in ./bench). */
export async function runBenchStreamCommand(flags: BenchStreamFlags): Promise<void> {
  const result = await benchStream(flags);
  process.stdout.write(formatResult(result));
  if (flags.json) process.stdout.write(`${JSON.stringify(result.headline)}\n`);
}

async function benchStream(flags: BenchStreamFlags) {
  const tooFast = flags.rates?.find((r) => r > MAX_STREAM_RATE);
  if (tooFast !== undefined) throw new Error(`--rates: ${tooFast} is above what POST /api/streams takes (${MAX_STREAM_RATE} samples/s)`);
  const modelDir = path.resolve(flags.model);
  const platform = await startBenchPlatform(modelDir, { window: flags.window });
  try {
    log('model-only inference on the test samples ...');
    const modelOnly = await modelOnlyRate(repoRoot(), modelDir, platform.datasetDir, { mode: 'production', threshold: flags.threshold });
    log(`model only: ${modelOnly.toFixed(1)} samples/s`);
    const attempts: Attempt[] = [];
    let held: Attempt | null = null;
    let failedAbove: number | null = null;
    // POST /api/streams refuses rates above MAX_STREAM_RATE: fractions of a faster model-only rate start there.
    const rates = flags.rates ?? [...new Set(FRACTIONS.map((f) => Math.min(MAX_STREAM_RATE, Math.max(0.5, round(modelOnly * f)))))];
    for (const rate of rates) {
      const a = await attempt(platform, rate, flags);
      attempts.push(a);
      if (flags.rates) {
        // Rates as given: the headline is the highest of them held.
        if (a.held && (!held || a.rate > held.rate)) held = a;
        continue;
      }
      if (a.held) {
        held = a;
        break;
      }
      failedAbove = a.rate;
    }
    // One refinement between the rate held and the one just above it that was not.
    if (held && failedAbove !== null && !flags.rates) {
      const mid = round((held.rate + failedAbove) / 2);
      const a = await attempt(platform, mid, flags);
      attempts.push(a);
      if (a.held) held = a;
    }
    return result(held, modelOnly, attempts, flags);
  } catch (e) {
    log(`the API ${platform.api.exitCode === null ? 'is running' : `exited (${platform.api.exitCode}, ${platform.api.signalCode})`}; its output ends with:\n${platform.output()}`);
    throw e;
  } finally {
    await platform.stop();
  }
}

/**
 * Runs a stream at `rate` with six simulated devices replaying the test split, reading its log as it grows: a
 * sample's decision lag is the commit time of its answering ExitDecided (createdAt, the database's clock, on
 * this machine) minus its trigger time. The rate is held when, over `seconds` after the warm-up, p99 lag stays
 * under the limit and triggers kept up with the rate; it fails as soon as a sample's lag passes twice the limit.
 */
async function attempt(platform: BenchPlatform, rate: number, flags: BenchStreamFlags): Promise<Attempt> {
  const spec: CreateStreamRequest = {
    modelId: 'default',
    topology: { devices: platform.devices.map((d) => ({ deviceId: d.id, view: d.view as number })) },
    policy: { kind: 'entropy', thresholds: { local: flags.threshold } },
    rate,
    deadlineMs: 5000,
    replay: { dataset: DATASET, split: 'test' },
    name: `bench ${rate}/s`,
  };
  log(`stream at ${rate} samples/s for ${WARM_UP_SECONDS} s + ${flags.seconds} s ...`);
  const { id } = await platform.call<{ id: string }>('POST', '/api/streams', spec);
  const triggers = new Map<number, number>();
  const lagsMs: number[] = [];
  let events = 0;
  let samples = 0;
  let windowStart: number | null = null;
  let windowTriggers = 0;
  let reason = '';
  let after: string | undefined;
  let t0: number | null = null;
  let newest = 0;
  // CPU counters from the moment the window's start is seen in the log to the end of the attempt.
  let cpu0: { at: number; api: number; main: number; db: Map<number, number> } | null = null;
  let lastInWindow = 0;
  const readUntil = performance.now() + (WARM_UP_SECONDS + flags.seconds) * 1000 + READ_BACK_GRACE_MS;
  try {
    for (;;) {
      const page = await platform.call<SessionEventsPage>('GET', `/api/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
      after = page.checkpoint ?? after;
      for (const e of page.events) {
        if (e.type === 'SessionAborted') throw new Error(`stream failed: ${e.data.reason}`);
        if (e.type === 'SampleStarted') {
          const at = e.data.triggeredAt as number;
          triggers.set(e.data.sampleIndex, at);
          newest = Math.max(newest, at);
          t0 ??= at;
          if (windowStart === null && at - t0 >= WARM_UP_SECONDS * 1000) windowStart = at;
          const inWindow = windowStart !== null && at >= windowStart && at < windowStart + flags.seconds * 1000;
          if (inWindow) {
            windowTriggers++;
            lastInWindow = at;
          }
          // A stream that cannot keep up triggers less often rather than lagging (never a burst): a rate whose
          // triggers fall clearly behind is not held, and waiting out the whole window only delayed the verdict.
          const span = windowStart === null ? 0 : at - windowStart;
          if (!reason && inWindow && span >= BEHIND_AFTER_MS && windowTriggers < 0.9 * rate * (span / 1000)) {
            reason = `${windowTriggers} samples triggered in ${(span / 1000).toFixed(1)} s, the rate asks for ${Math.round(rate * (span / 1000))}`;
          }
        }
        const triggeredAt = 'sampleIndex' in e.data ? triggers.get(e.data.sampleIndex) : undefined;
        if (windowStart === null || triggeredAt === undefined || triggeredAt < windowStart || triggeredAt >= windowStart + flags.seconds * 1000) continue;
        events++;
        if (e.type === 'ExitDecided' && answersSample(e.data)) {
          samples++;
          const lag = Date.parse(e.createdAt) - triggeredAt;
          lagsMs.push(lag);
          if (lag > 2 * flags.lagMs) reason = `sample ${e.data.sampleIndex} decided ${lag} ms after its trigger`;
        }
      }
      if (windowStart !== null && !cpu0) {
        cpu0 = { at: performance.now(), api: processCpuMs(platform.api.pid), main: processCpuMs(platform.api.pid, platform.api.pid), db: await platform.backendCpuMs() };
      }
      if (reason) break;
      if (performance.now() > readUntil) {
        reason = `the log was still being read ${Math.round((Date.now() - newest) / 1000)} s behind the stream ${READ_BACK_GRACE_MS / 1000} s after the window's end`;
        break;
      }
      if (windowStart !== null && newest >= windowStart + flags.seconds * 1000 + flags.lagMs * 2) break;
      if (!page.hasMore) await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await platform.call<StreamView>('POST', `/api/streams/${id}/stop`);
  }
  const cpu1 = { at: performance.now(), api: processCpuMs(platform.api.pid), main: processCpuMs(platform.api.pid, platform.api.pid), db: await platform.backendCpuMs() };
  const wallMs = cpu0 ? cpu1.at - cpu0.at : NaN;
  const apiCores = cpu0 ? (cpu1.api - cpu0.api) / wallMs : NaN;
  const apiMainCores = cpu0 ? (cpu1.main - cpu0.main) / wallMs : NaN;
  const dbCores = cpu0 ? databaseCpuMs(cpu0.db, cpu1.db) / wallMs : NaN;
  const triggersPerSecond = windowStart !== null && lastInWindow > windowStart ? (windowTriggers - 1) / ((lastInWindow - windowStart) / 1000) : NaN;
  const expected = rate * flags.seconds;
  const p99 = percentile(lagsMs, 0.99);
  if (!reason && samples < expected * 0.95) reason = `${samples} samples decided in ${flags.seconds} s, the rate asks for ${Math.round(expected)}`;
  if (!reason && p99 >= flags.lagMs) reason = `p99 decision lag ${Math.round(p99)} ms`;
  const measured = { held: !reason, reason: reason || 'held', apiCores, apiMainCores, dbCores, load: os.loadavg()[0] };
  const a: Attempt = { rate, ...measured, samples, events, seconds: flags.seconds, cpuSeconds: wallMs / 1000, lagsMs, triggersPerSecond, limit: limitOf(measured) };
  log(
    `  ${a.held ? 'held' : `not held (limit: ${a.limit})`}: ${a.reason}; ${samples} samples, p50 lag ${Math.round(percentile(lagsMs, 0.5))} ms, p99 ${Math.round(p99)} ms;` +
      ` ${round(triggersPerSecond)} triggers/s, ${round(events / Math.max(1, samples), 2)} events/sample, API ${round(apiCores, 2)} cores (main thread ${round(apiMainCores, 2)}), database ${round(dbCores, 2)} cores, load ${round(a.load)}`,
  );
  return a;
}

function percentile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}


/**
 * CPU ms per decided sample over an attempt's window: the API process (all threads), its main thread (engine, log,
 * HTTP), the rest of it (the simulated devices' fleet thread, with GC and libuv helpers) and the database backends.
 */
function cpuPerSample(a: Attempt) {
  // Samples decided per second over the time CPU was measured: an attempt that failed early measured less than
  // its window.
  const perSecond = a.samples / a.cpuSeconds;
  const ms = (cores: number) => (perSecond > 0 ? round((cores * 1000) / perSecond, 2) : null);
  return { apiCpuMsPerSample: ms(a.apiCores), apiMainThreadCpuMsPerSample: ms(a.apiMainCores), otherThreadsCpuMsPerSample: ms(a.apiCores - a.apiMainCores), dbCpuMsPerSample: ms(a.dbCores) };
}

function result(held: Attempt | null, modelOnly: number, attempts: Attempt[], flags: BenchStreamFlags) {
  const rate = held ? held.samples / held.seconds : 0;
  // The ceiling: the lowest rate tried above the one held, and what stopped it.
  const above = attempts.filter((a) => !a.held && (!held || a.rate > held.rate)).sort((a, b) => a.rate - b.rate)[0];
  return {
    headline: {
      samplesPerSecond: round(rate),
      modelOnlySamplesPerSecond: round(modelOnly),
      ratio: round(rate / modelOnly, 3),
      decisionLatencyMs: held ? { p50: round(percentile(held.lagsMs, 0.5)), p99: round(percentile(held.lagsMs, 0.99)) } : null,
      eventsPerSecond: held ? round(held.events / held.seconds) : 0,
      eventsPerSample: held ? round(held.events / Math.max(1, held.samples), 2) : null,
      ...(held ? cpuPerSample(held) : { apiCpuMsPerSample: null, apiMainThreadCpuMsPerSample: null, otherThreadsCpuMsPerSample: null, dbCpuMsPerSample: null }),
      limit: above ? above.limit : 'none',
    },
    detail: {
      threshold: flags.threshold,
      heldSeconds: flags.seconds,
      lagLimitMs: flags.lagMs,
      cores: os.cpus().length,
      attempts: attempts.map((a) => ({
        rate: a.rate,
        held: a.held,
        reason: a.reason,
        limit: a.limit,
        triggersPerSecond: round(a.triggersPerSecond),
        eventsPerSample: round(a.events / Math.max(1, a.samples), 2),
        ...cpuPerSample(a),
        apiCores: round(a.apiCores, 2),
        dbCores: round(a.dbCores, 2),
        load: round(a.load),
      })),
    },
  };
}

function formatResult(r: ReturnType<typeof result>): string {
  const { headline: h, detail: d } = r;
  return [
    `stream: six simulated devices replaying the test split, T=${d.threshold}, every event persisted; a rate counts when held ${d.heldSeconds} s with p99 decision lag < ${d.lagLimitMs} ms`,
    ...d.attempts.map(
      (a) =>
        `  ${String(a.rate).padStart(7)} samples/s  ${a.held ? 'held    ' : 'not held'}  ${a.reason} (limit ${a.limit}; ${a.triggersPerSecond} triggers/s, API ${a.apiCores} + database ${a.dbCores} of ${d.cores} cores, ` +
          `per sample API ${a.apiCpuMsPerSample} ms (main ${a.apiMainThreadCpuMsPerSample}) + database ${a.dbCpuMsPerSample} ms, ${a.eventsPerSample} events; load ${a.load})`,
    ),
    `  stream             ${h.samplesPerSecond} samples/s, ${h.eventsPerSecond} events/s, decision lag p50 ${h.decisionLatencyMs?.p50 ?? '-'} ms, p99 ${h.decisionLatencyMs?.p99 ?? '-'} ms`,
    `  model only         ${h.modelOnlySamplesPerSecond} samples/s (same sections, one sample at a time, no transport, no log)`,
    `  ratio              ${h.ratio}`,
    `  CPU                API ${h.apiCpuMsPerSample ?? '-'} ms (main thread ${h.apiMainThreadCpuMsPerSample ?? '-'}, other threads (devices, GC) ${h.otherThreadsCpuMsPerSample ?? '-'}), database ${h.dbCpuMsPerSample ?? '-'} ms per sample at the rate held; ${h.eventsPerSample ?? '-'} events per sample`,
    `  ceiling            ${h.limit} (what held back the lowest rate tried above the one held)`,
    '',
  ].join('\n');
}
