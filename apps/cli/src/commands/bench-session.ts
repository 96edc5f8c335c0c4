import fs from 'node:fs';
import path from 'node:path';
import { sectionName, type CreateSessionRequest, type SessionRunStats, type SessionView } from '@ddnn/contracts';
import { log } from '../log';
import { round } from '../stats';
import { commitOf, databaseCpuMs, DATASET, processCpuMs, startBenchPlatform, waitFor } from './bench-platform';
import { repoRoot } from './repo-root';

export interface BenchSessionFlags {
  model: string;
  threshold: number;
  mode: 'production' | 'research';
  window?: number;
  /** Measured sessions after the warm-up sessions. */
  repeat?: number;
  /** Unmeasured sessions before them. */
  warmup?: number;
  /** The checkout measured (its API and its model code); default this one. */
  root?: string;
  /**
   * Which views the model-only rate computes: `captured` (the platform's devices answer a view their camera did not
   * capture with a skipped capture), or `all`, for a checkout older than that rule whose devices computed the
   * blank image of an uncaptured view (4656ae2, say).
   */
  modelOnlyViews?: 'captured' | 'all';
  json?: boolean;
}

/** The action of `ddnn bench session` (registered in ./bench). */
export async function runBenchSessionCommand(flags: BenchSessionFlags): Promise<void> {
  const result = await benchSession(flags);
  process.stdout.write(formatResult(result));
  if (flags.json) process.stdout.write(`${JSON.stringify(result.headline)}\n`);
}

/**
 * One short session after a 20-sample warm-up measured the JIT warming up as much as the engine (a session's
 * samples/s rose by half from the first session to the third on the same API), and 171 samples in well under a
 * second is a noisy window. One whole-split warm-up session was not enough either: the first session measured after
 * it cost the API 2.3-2.5 ms of CPU per sample in four runs out of four, the next ones 1.4-2.0 (V8's optimizing
 * compiler, on background threads, was a third of the API's CPU then: with --no-concurrent-recompilation that
 * share moved to the main thread). So: `warmup` whole-split sessions (default 3), then `repeat` measured sessions
 * back to back, and samples/s is their total samples over their total pipeline time. (V8 still compiles in the
 * measured sessions, --log-code counts ~140 TurboFan compiles in six, nearly all first compiles of a function.) `--root` measures another checkout
 * (e.g. a worktree of an older commit) by this same method: its API is built and run, and the model-only rate
 * comes from its own built model code, so both sides of the ratio are that commit's.
 */
async function benchSession(flags: BenchSessionFlags) {
  const root = flags.root ? path.resolve(flags.root) : repoRoot();
  const repeat = flags.repeat ?? 3;
  const warmup = flags.warmup ?? 3;
  const modelDir = path.resolve(flags.model);
  const platform = await startBenchPlatform(modelDir, { window: flags.window, root });
  const { call, devices, datasetDir, api } = platform;
  try {
    const spec: CreateSessionRequest = {
      modelId: 'default',
      dataset: DATASET,
      split: 'test',
      topology: { devices: devices.map((d) => ({ deviceId: d.id, view: d.view as number })) },
      policy: { kind: 'entropy', thresholds: { local: flags.threshold } },
      mode: flags.mode,
      deadlineMs: 5000,
    };
    const run = async (): Promise<SessionView> => {
      const { id } = await call<{ id: string }>('POST', '/api/sessions', spec);
      const done = await waitFor(
        `session ${id}`,
        async () => {
          const v = await call<SessionView>('GET', `/api/sessions/${id}`);
          if (v.status === 'failed' || v.status === 'stopped') throw new Error(`session ${id} ${v.status}: ${v.error}`);
          // The summary is folded from the log and may trail the session row by a moment: wait for it to hold
          // SessionCompleted, so the counts read from it are the whole session's.
          return v.status === 'completed' && v.summary?.status === 'completed' ? v : undefined;
        },
        600_000,
        api,
      );
      return done;
    };
    for (let i = 1; i <= warmup; i++) {
      log(`warm-up session ${i}/${warmup} (the whole test split, not measured) of ${commitOf(root)} ...`);
      await run();
    }
    const runs: Measured[] = [];
    for (let i = 1; i <= repeat; i++) {
      log(`measured session ${i}/${repeat} (${flags.mode}, T=${flags.threshold}, the test split, every event persisted) ...`);
      const commits0 = await platform.appendCommits();
      const db0 = await platform.backendCpuMs();
      const cpu0 = processCpuMs(api.pid);
      const main0 = processCpuMs(api.pid, api.pid);
      const threads0 = threadCpuMs(api.pid);
      const session = await run();
      const apiCpuMs = processCpuMs(api.pid) - cpu0;
      const apiMainCpuMs = processCpuMs(api.pid, api.pid) - main0;
      const threads = threadDeltas(threads0, threadCpuMs(api.pid), String(api.pid));
      const dbCpuMs = databaseCpuMs(db0, await platform.backendCpuMs());
      const commits = (await platform.appendCommits()) - commits0;
      const summary = session.summary!;
      runs.push({ stats: session.stats as SessionRunStats, samples: summary.samplesDecided, localExits: summary.exits.local.exited, missed: summary.missed, apiCpuMs, apiMainCpuMs, threads, dbCpuMs, commits });
    }
    log('model-only inference on the same samples ...');
    const modelOnly = await modelOnlyRate(root, modelDir, datasetDir, flags);
    return result(runs, modelOnly, flags, commitOf(root));
  } finally {
    await platform.stop();
  }
}

/** Rounds of the model-only measurement and how long each runs (its median is the rate). */
const MODEL_ONLY_ROUNDS = 5;
const MODEL_ONLY_ROUND_MS = 2000;

/**
 * The same computation as the session without transport or logging: the device section of every camera that
 * captured the sample (bit-packed, as the simulated devices run it), the local aggregator, and the cloud for the
 * samples that go on (every sample in research mode), one sample at a time.
 */
export async function modelOnlyRate(
  root: string,
  modelDir: string,
  datasetDir: string,
  flags: Pick<BenchSessionFlags, 'mode' | 'threshold' | 'modelOnlyViews'>,
): Promise<number> {
  // The measured checkout's own model code, as its API build compiled it (buildApp ran above).
  const built = (lib: string) => path.join(root, 'dist', 'apps', 'api', 'libs', lib, 'src', 'index.js');
  const { binaryDeviceSectionRunner, createLocalAggregator, ensureBackend, loadSection, normalizedEntropy, openCloudSection, parseTopology, readCheckpointManifest } =
    (await import(built('ddnn'))) as typeof import('@ddnn/ddnn');
  const { loadDataset, viewPixels } = (await import(built('datasets'))) as typeof import('@ddnn/datasets');
  await ensureBackend();
  const manifest = await readCheckpointManifest(modelDir);
  const topology = parseTopology(manifest.topology);
  const devices = topology.devices.map((v) =>
    binaryDeviceSectionRunner(manifest, sectionName.device(v), new Uint8Array(fs.readFileSync(path.join(modelDir, `${sectionName.device(v)}.bin`)))),
  );
  const local = createLocalAggregator(manifest, await loadSection(modelDir, 'local', manifest));
  const cloud = await openCloudSection(manifest, await loadSection(modelDir, 'cloud', manifest));
  const ds = await loadDataset(datasetDir);
  const test = ds.splits.map((s, i) => (s === 'test' ? i : -1)).filter((i) => i >= 0);
  // A view its camera did not capture costs nothing, as on a live device (it answers a skipped capture, sends
  // nothing, and the upper sections fuse the others): the model alone does the same work as the platform.
  const V = ds.manifest.views;
  const computed = (n: number, v: number) => flags.modelOnlyViews === 'all' || ds.present[n * V + v] === 1;
  const views = test.map((n) => topology.devices.map((v) => (computed(n, v) ? Float32Array.from(viewPixels(ds, n, v)) : null)));
  const pass = () => {
    for (const sample of views) {
      const outs = devices.map((d, i) => {
        const view = sample[i];
        return view ? d.infer(view) : null;
      });
      if (outs.every((o) => o === null)) continue;
      const p = local(outs.map((o) => o?.scores ?? null));
      if (flags.mode === 'research' || !(normalizedEntropy(p) < flags.threshold)) cloud.infer(outs.map((o) => o?.features ?? null));
    }
  };
  pass();
  // The median of several short rounds: one round's wall-clock rate moved 20% between runs on a shared machine.
  const rates: number[] = [];
  for (let round = 0; round < MODEL_ONLY_ROUNDS; round++) {
    let done = 0;
    const t0 = performance.now();
    do {
      pass();
      done += views.length;
    } while (performance.now() - t0 < MODEL_ONLY_ROUND_MS);
    rates.push(done / ((performance.now() - t0) / 1000));
  }
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)];
}


interface Measured {
  stats: SessionRunStats;
  samples: number;
  localExits: number;
  missed: number;
  /** The API process's CPU time over the session (its own timing and polling included). */
  apiCpuMs: number;
  /** Its main thread's share: the engine, the log's readers and writers (the simulated devices compute in a worker). */
  apiMainCpuMs: number;
  /** CPU (ms) of the API's other threads over the session, busiest first (the fleet's thread, V8's compiler and GC helpers, libuv). */
  threads: number[];
  /** The database backends' CPU time for the API over the session (NaN: the server is not on this machine). */
  dbCpuMs: number;
  /** The batching writer's commits over the session (each a statement, a transaction and a WAL flush). */
  commits: number;
}

function result(runs: Measured[], modelOnly: number, flags: BenchSessionFlags, commit: string) {
  const sum = (f: (r: Measured) => number) => runs.reduce((a, r) => a + f(r), 0);
  const stats = {
    pipelineMs: sum((r) => r.stats.pipelineMs),
    serverModelMs: sum((r) => r.stats.serverModelMs),
    deviceModelMs: sum((r) => r.stats.deviceModelMs),
    transportMs: sum((r) => r.stats.transportMs),
    loggingMs: sum((r) => r.stats.loggingMs),
    events: sum((r) => r.stats.events),
  };
  const samples = sum((r) => r.samples);
  const localExits = sum((r) => r.localExits);
  const missed = sum((r) => r.missed);
  const seconds = stats.pipelineMs / 1000;
  const samplesPerSecond = samples / seconds;
  const model = stats.serverModelMs + stats.deviceModelMs;
  const total = model + stats.transportMs + stats.loggingMs;
  return {
    headline: {
      samplesPerSecond: round(samplesPerSecond),
      modelOnlySamplesPerSecond: round(modelOnly),
      ratio: round(samplesPerSecond / modelOnly, 3),
      eventsPerSecond: round(stats.events / seconds),
      apiCpuMsPerSample: round(sum((r) => r.apiCpuMs) / samples, 2),
      apiMainThreadCpuMsPerSample: round(sum((r) => r.apiMainCpuMs) / samples, 2),
      dbCpuMsPerSample: round(sum((r) => r.dbCpuMs) / samples, 2),
    },
    detail: {
      commit,
      sessions: runs.length,
      warmupSessions: flags.warmup ?? 3,
      perSessionSamplesPerSecond: runs.map((r) => round(r.samples / (r.stats.pipelineMs / 1000))),
      perSessionApiCpuMsPerSample: runs.map((r) => round(r.apiCpuMs / r.samples, 2)),
      mode: flags.mode,
      threshold: flags.threshold,
      samples,
      localExits,
      missed,
      events: stats.events,
      pipelineSeconds: round(seconds, 2),
      // Threads are told apart by rank only (Node names them all "node"): the busiest is the devices' fleet thread.
      otherThreadsCpuMsPerSample: rankedSum(runs.map((r) => r.threads)).map((ms) => round(ms / samples, 2)).slice(0, 4),
      appendCommitsPerSample: round(sum((r) => r.commits) / samples, 3),
      share: { model: round(model / total, 3), transport: round(stats.transportMs / total, 3), logging: round(stats.loggingMs / total, 3) },
      perSampleMs: {
        model: round(model / samples, 2),
        transport: round(stats.transportMs / samples, 2),
        logging: round(stats.loggingMs / samples, 2),
      },
    },
  };
}

/** CPU (ms) of each thread of a process by thread id, from /proc. */
function threadCpuMs(pid: number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) out.set(tid, processCpuMs(pid, Number(tid)));
  return out;
}

/** Each non-main thread's CPU between two snapshots, busiest first. */
function threadDeltas(before: Map<string, number>, after: Map<string, number>, main: string): number[] {
  const deltas: number[] = [];
  for (const [tid, ms] of after) if (tid !== main && Number.isFinite(ms)) deltas.push(ms - (before.get(tid) ?? 0));
  return deltas.sort((a, b) => b - a);
}

/** Rank-wise sums of descending lists (the busiest thread of each run, the second busiest, ...). */
function rankedSum(lists: number[][]): number[] {
  const out: number[] = [];
  for (const l of lists) l.forEach((v, i) => (out[i] = (out[i] ?? 0) + v));
  return out;
}

function formatResult(r: ReturnType<typeof result>): string {
  const { headline: h, detail: d } = r;
  return [
    `${d.commit}: ${d.sessions} sessions (${d.perSessionSamplesPerSecond.join(', ')} samples/s; API CPU ${d.perSessionApiCpuMsPerSample.join(', ')} ms per sample) after ${d.warmupSessions} warm-up sessions`,
    `session: ${d.samples} samples (${d.mode}, T=${d.threshold}, ${d.localExits} local exits, ${d.missed} device misses), ${d.events} events persisted in ${d.pipelineSeconds} s`,
    `  session            ${h.samplesPerSecond} samples/s, ${h.eventsPerSecond} events/s`,
    `  model only         ${h.modelOnlySamplesPerSecond} samples/s (same sections, one sample at a time, no transport, no log)`,
    `  ratio              ${h.ratio}`,
    `  API CPU            ${h.apiCpuMsPerSample} ms per sample (user + system, all of its threads; main thread ${h.apiMainThreadCpuMsPerSample})`,
    `  other threads      ${d.otherThreadsCpuMsPerSample.join(', ')} ms per sample (the API's busiest threads after main: the devices' fleet, then V8 helpers)`,
    `  database CPU       ${h.dbCpuMsPerSample} ms per sample (the backends serving the API, when the server runs on this machine)`,
    `  log commits        ${d.appendCommitsPerSample} per sample (the batching writer's transactions)`,
    `  time per sample    model ${d.perSampleMs.model} ms, transport ${d.perSampleMs.transport} ms, logging ${d.perSampleMs.logging} ms` +
      ` (share ${d.share.model} / ${d.share.transport} / ${d.share.logging}; summed over samples in flight)`,
    '',
  ].join('\n');
}
