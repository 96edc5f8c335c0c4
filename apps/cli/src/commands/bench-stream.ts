import os from 'node:os';
import path from 'node:path';
import { answersSample, MAX_STREAM_RATE, type CreateStreamRequest, type SessionEventsPage, type StreamView } from '@ddnn/contracts';
import { log } from '../log';
import { round } from '../stats';
import { databaseCpuMs, DATASET, machineBusyCpuMs, processCpuMs, startBenchPlatform, type BenchPlatform } from './bench-platform';
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
/** How long the bench waits for a stream's first sample before it gives the attempt up. */
const FIRST_SAMPLE_TIMEOUT_MS = 60_000;
/** How long reading an attempt's log back may take (a 60 s window at 1500 samples/s is ~1 M events). */
const READ_BACK_TIMEOUT_MS = 10 * 60_000;

/** One rate tried: whether it was held and what the log showed over the measured window. */
interface Attempt {
  rate: number;
  held: boolean;
  reason: string;
  samples: number;
  events: number;
  seconds: number;
  /** How long CPU was measured (the window's wall time). */
  cpuSeconds: number;
  lagsMs: number[];
  /** Triggers per second over the window (the stream's own pacing, whatever was decided). */
  triggersPerSecond: number;
  /** CPU over the window, in cores: the API process (all threads) and the database backends serving it. */
  apiCores: number;
  /** The API's main thread alone (the engine, the log, HTTP); the rest of apiCores is mostly the device fleet's thread. */
  apiMainCores: number;
  dbCores: number;
  /** Busy cores of the whole machine over the window, less the API and the database: the bench itself and anything else. */
  otherCores: number;
  /** The machine's 1-minute load average at the end of the window (runnable threads: the API's own several count). */
  load: number;
  /** What held this rate back: see limitOf. */
  limit: string;
}

/**
 * Why a rate was not held, from what the window measured: `cpu` when the machine's cores were (nearly) all busy
 * and the API and its database used most of that; `machine` when others took over a quarter of it (the figure
 * then says little about the platform); otherwise `triggers` (the stream could not pace its
 * triggers though CPU was left) or `lag` (decisions queued behind something other than CPU: the log's commits, the
 * window). Busy time is read from the kernel's counters, not the load average: that counts the API's own threads
 * (main, devices, GC, libuv) waiting for a core, and read 3.2 on 2 cores with nothing else running.
 */
function limitOf(a: Pick<Attempt, 'held' | 'reason' | 'apiCores' | 'dbCores' | 'otherCores'>): string {
  if (a.held) return 'none';
  const cores = os.cpus().length;
  const platform = a.apiCores + a.dbCores;
  const busy = platform + a.otherCores;
  // Others include the database server's own processes (WAL writer, checkpointer), which work for the stream too.
  if (busy >= 0.9 * cores) return platform >= 0.75 * busy ? 'cpu' : 'machine';
  if (platform >= 0.85 * cores) return 'cpu';
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
  let modelOnly: number;
  {
    const platform = await startBenchPlatform(modelDir, { window: flags.window });
    try {
      log('model-only inference on the test samples ...');
      modelOnly = await modelOnlyRate(repoRoot(), modelDir, platform.datasetDir, { mode: 'production', threshold: flags.threshold });
      log(`model only: ${modelOnly.toFixed(1)} samples/s`);
    } finally {
      await platform.stop();
    }
  }
  /**
   * Each rate on a platform of its own (a new API and an empty database): on one database, an attempt paid for
   * vacuuming the millions of events the faster attempts before it had written (the database's CPU a sample went
   * from 0.25 to 0.43-0.68 ms over a search), so a rate's verdict depended on the rates tried before it.
   */
  const tryRate = async (rate: number): Promise<Attempt> => {
    const platform = await startBenchPlatform(modelDir, { window: flags.window });
    try {
      return await attempt(platform, rate, flags);
    } catch (e) {
      log(`the API ${platform.api.exitCode === null ? 'is running' : `exited (${platform.api.exitCode}, ${platform.api.signalCode})`}; its output ends with:\n${platform.output()}`);
      throw e;
    } finally {
      await platform.stop();
    }
  };
  const attempts: Attempt[] = [];
  let held: Attempt | null = null;
  let failedAbove: number | null = null;
  // POST /api/streams refuses rates above MAX_STREAM_RATE: fractions of a faster model-only rate start there.
  const rates = flags.rates ?? [...new Set(FRACTIONS.map((f) => Math.min(MAX_STREAM_RATE, Math.max(0.5, round(modelOnly * f)))))];
  for (const rate of rates) {
    const a = await tryRate(rate);
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
    const a = await tryRate(mid);
    attempts.push(a);
    if (a.held) held = a;
  }
  return result(held, modelOnly, attempts, flags);
}

/**
 * Runs a stream at `rate` with six simulated devices replaying the test split, then reads its log back: a sample's
 * decision lag is the commit time of its answering ExitDecided (createdAt, the database's clock, on this machine)
 * minus its trigger time. The measured window is `seconds` of wall time after a warm-up from the first trigger;
 * CPU is measured over exactly that window. The rate is held when the window's triggers kept up with the rate, its
 * samples were decided with p99 lag under the limit, and none took twice the limit.
 *
 * The log is read once the stream has stopped, not while it runs: a reader following the stream through the API
 * competed with the stream for the API's thread and the cores (at 1,443 samples/s, 14,000 events/s of JSON pages
 * fell a minute behind and took the CPU the stream needed), so the bench measured itself as much as the platform.
 * An operator's live view follows a stream through /live, not by paging its whole log.
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
  let window: { start: number; end: number };
  let cpu0: CpuSnapshot;
  let cpu1: CpuSnapshot;
  try {
    const firstTrigger = await firstTriggerOf(platform, id);
    await sleep(firstTrigger + WARM_UP_SECONDS * 1000 - Date.now());
    cpu0 = await cpuSnapshot(platform);
    const start = Date.now();
    await sleep(flags.seconds * 1000);
    cpu1 = await cpuSnapshot(platform);
    window = { start, end: Date.now() };
    // The window's last samples may be decided up to the lag limit after it; a sample later than twice the limit
    // fails the rate whether or not it was decided.
    await sleep(2 * flags.lagMs);
  } finally {
    await platform.call<StreamView>('POST', `/api/streams/${id}/stop`);
  }
  const wallMs = cpu1.at - cpu0.at;
  const apiCores = (cpu1.api - cpu0.api) / wallMs;
  const apiMainCores = (cpu1.main - cpu0.main) / wallMs;
  const dbCores = databaseCpuMs(cpu0.db, cpu1.db) / wallMs;
  const otherCores = Math.max(0, (cpu1.machine - cpu0.machine) / wallMs - apiCores - dbCores);
  const load = os.loadavg()[0];
  log(`  reading the stream's log back ...`);
  const w = await readWindow(platform, id, window, flags.lagMs);
  const seconds = (window.end - window.start) / 1000;
  const expected = rate * seconds;
  const p99 = percentile(w.lagsMs, 0.99);
  let reason = w.aborted ? `stream failed: ${w.aborted}` : '';
  if (!reason && w.triggers < 0.9 * expected) reason = `${w.triggers} samples triggered in ${seconds.toFixed(1)} s, the rate asks for ${Math.round(expected)}`;
  if (!reason && w.late) reason = w.late;
  if (!reason && w.samples < expected * 0.95) reason = `${w.samples} samples decided in ${seconds.toFixed(1)} s, the rate asks for ${Math.round(expected)}`;
  if (!reason && p99 >= flags.lagMs) reason = `p99 decision lag ${Math.round(p99)} ms`;
  const measured = { held: !reason, reason: reason || 'held', apiCores, apiMainCores, dbCores, otherCores, load };
  const triggersPerSecond = w.triggers / seconds;
  const a: Attempt = { rate, ...measured, samples: w.samples, events: w.events, seconds, cpuSeconds: wallMs / 1000, lagsMs: w.lagsMs, triggersPerSecond, limit: limitOf(measured) };
  log(
    `  ${a.held ? 'held' : `not held (limit: ${a.limit})`}: ${a.reason}; ${a.samples} samples, p50 lag ${Math.round(percentile(a.lagsMs, 0.5))} ms, p99 ${Math.round(p99)} ms;` +
      ` ${round(triggersPerSecond)} triggers/s, ${round(a.events / Math.max(1, a.samples), 2)} events/sample, API ${round(apiCores, 2)} cores (main thread ${round(apiMainCores, 2)}), database ${round(dbCores, 2)} cores, others ${round(otherCores, 2)} cores, load ${round(load)}`,
  );
  return a;
}

interface CpuSnapshot {
  at: number;
  api: number;
  main: number;
  db: Map<number, number>;
  machine: number;
}

async function cpuSnapshot(platform: BenchPlatform): Promise<CpuSnapshot> {
  return { at: performance.now(), api: processCpuMs(platform.api.pid), main: processCpuMs(platform.api.pid, platform.api.pid), db: await platform.backendCpuMs(), machine: machineBusyCpuMs() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** The trigger time of a stream's first sample, once it is in the log (a few small reads of its first page). */
async function firstTriggerOf(platform: BenchPlatform, id: string): Promise<number> {
  const deadline = Date.now() + FIRST_SAMPLE_TIMEOUT_MS;
  for (;;) {
    const page = await platform.call<SessionEventsPage>('GET', `/api/streams/${id}/events?limit=100`);
    for (const e of page.events) {
      if (e.type === 'SessionAborted') throw new Error(`stream failed: ${e.data.reason}`);
      if (e.type === 'SampleStarted') return e.data.triggeredAt as number;
    }
    if (Date.now() > deadline) throw new Error(`stream ${id} logged no sample in ${FIRST_SAMPLE_TIMEOUT_MS / 1000} s`);
    await sleep(200);
  }
}

/** What a stopped stream's log says about the samples triggered in a window. */
interface WindowRead {
  triggers: number;
  samples: number;
  /** Events of the window's samples. */
  events: number;
  lagsMs: number[];
  /** The first sample decided later than twice the lag limit, as a reason; '' when none. */
  late: string;
  /** The stream's abort reason, '' when it was not aborted. */
  aborted: string;
}

/** Reads a stopped stream's log to its end (SessionCompleted or SessionAborted) and measures the window's samples. */
async function readWindow(platform: BenchPlatform, id: string, window: { start: number; end: number }, lagMs: number): Promise<WindowRead> {
  const r: WindowRead = { triggers: 0, samples: 0, events: 0, lagsMs: [], late: '', aborted: '' };
  const inWindow = new Map<number, number>();
  const deadline = Date.now() + READ_BACK_TIMEOUT_MS;
  let ended = false;
  for (let after: string | undefined; ; ) {
    const page = await platform.call<SessionEventsPage>('GET', `/api/streams/${id}/events?limit=1000${after ? `&after=${after}` : ''}`);
    after = page.checkpoint ?? after;
    for (const e of page.events) {
      if (e.type === 'SessionAborted') r.aborted = String(e.data.reason);
      if (e.type === 'SessionCompleted' || e.type === 'SessionAborted') ended = true;
      if (e.type === 'SampleStarted') {
        const at = e.data.triggeredAt as number;
        if (at >= window.start && at < window.end) {
          inWindow.set(e.data.sampleIndex, at);
          r.triggers++;
        }
      }
      const triggeredAt = 'sampleIndex' in e.data ? inWindow.get(e.data.sampleIndex) : undefined;
      if (triggeredAt === undefined) continue;
      r.events++;
      if (e.type === 'ExitDecided' && answersSample(e.data)) {
        r.samples++;
        const lag = Date.parse(e.createdAt) - triggeredAt;
        r.lagsMs.push(lag);
        if (!r.late && lag > 2 * lagMs) r.late = `sample ${e.data.sampleIndex} decided ${lag} ms after its trigger`;
      }
    }
    if (ended && !page.hasMore) return r;
    if (Date.now() > deadline) throw new Error(`stream ${id}: its log was not read to its end in ${READ_BACK_TIMEOUT_MS / 60_000} minutes`);
    if (!page.hasMore) await sleep(200);
  }
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
        otherCores: round(a.otherCores, 2),
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
          `per sample API ${a.apiCpuMsPerSample} ms (main ${a.apiMainThreadCpuMsPerSample}) + database ${a.dbCpuMsPerSample} ms, ${a.eventsPerSample} events; others ${a.otherCores} cores, load ${a.load})`,
    ),
    `  stream             ${h.samplesPerSecond} samples/s, ${h.eventsPerSecond} events/s, decision lag p50 ${h.decisionLatencyMs?.p50 ?? '-'} ms, p99 ${h.decisionLatencyMs?.p99 ?? '-'} ms`,
    `  model only         ${h.modelOnlySamplesPerSecond} samples/s (same sections, one sample at a time, no transport, no log)`,
    `  ratio              ${h.ratio}`,
    `  CPU                API ${h.apiCpuMsPerSample ?? '-'} ms (main thread ${h.apiMainThreadCpuMsPerSample ?? '-'}, other threads (devices, GC) ${h.otherThreadsCpuMsPerSample ?? '-'}), database ${h.dbCpuMsPerSample ?? '-'} ms per sample at the rate held; ${h.eventsPerSample ?? '-'} events per sample`,
    `  ceiling            ${h.limit} (what held back the lowest rate tried above the one held)`,
    '',
  ].join('\n');
}
