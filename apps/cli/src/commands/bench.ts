import path from 'node:path';
import { Option, type Command } from 'commander';
import type { BenchEventsOptions } from './bench-events';
import type { BenchMetricsFlags } from './bench-metrics';
import type { BenchModelFlags } from './bench-model';
import type { BenchSessionFlags } from './bench-session';
import type { BenchStreamFlags } from './bench-stream';
import type { FaultSuiteFlags } from './bench-faults';
import { intFlag, numberFlag, pathFlag } from './model-options';
import { repoRoot } from './repo-root';

// Each benchmark's implementation (and its heavy modules: TensorFlow.js, pg, the datasets) loads only when it runs.

/** The `ddnn bench` group (npm run bench:*); each benchmark adds its own sub-command to it. */
export function benchGroup(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'bench');
  return existing ?? program.command('bench').description('Benchmarks that print numbers and ratios measured in the same run');
}

export const FAULTS = ['garbage', 'crash', 'kill'] as const;
export type Fault = (typeof FAULTS)[number];

function faultList(value: string): Fault[] {
  const list = value.split(',').map((v) => v.trim()).filter(Boolean);
  for (const v of list) if (!(FAULTS as readonly string[]).includes(v)) throw new Error(`--without takes ${FAULTS.join(', ')}; got "${v}"`);
  return list as Fault[];
}

/** `--rates`: positive stream rates (samples/s); bench-stream checks them against what POST /api/streams takes. */
function rateList(value: string): number[] {
  const list = value.split(',').map((v) => v.trim()).filter(Boolean).map(Number);
  if (list.length === 0 || list.some((r) => !(r > 0 && Number.isFinite(r)))) throw new Error(`--rates takes comma-separated positive rates; got "${value}"`);
  return list;
}

/** `ddnn bench events`: durable events/s through the batching writer vs COPY of the same rows, same server, same run. */
export function registerBenchEventsCommand(program: Command): void {
  benchGroup(program)
    .command('events')
    .description('Events/s through the batching writer vs the COPY ceiling of the same server (TEST_DATABASE_URL or an embedded server)')
    .option('--events <n>', 'events per round', '30000')
    .option('--batch-size <n>', 'events per batch (the writer flushes at this many)', '100')
    .option('--streams <n>', 'session streams written in parallel', '8')
    .option('--lanes <n>', 'writer lanes (batches in flight at once)', '4')
    .option('--rounds <n>', 'rounds, alternating which side goes first (keep it even); medians are reported', '6')
    .option('--events-per-append <n>', "events per append call, one stream's consecutive events (the session runner appends a sample's events at once)", '1')
    .option('--in-flight <n>', 'appends awaiting their commit at once (each commit starts the next); default 5 x lanes x batch size events')
    .option('--runs <kind>', 'session: write session-<id> streams (kept); stream: stream-<id> streams (day partitions, expiring)', 'session')
    .option('--fenced', "also time the writer with every append carrying its stream's fence (a run owner's appends), in the same rounds")
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (opts: BenchEventsOptions) => (await import('./bench-events')).runBenchEventsCommand(opts));
}

/** `ddnn bench model`: training s/epoch; device-section and whole-DDNN inference, tfjs-wasm vs bit-packed, same run. */
export function registerBenchModelCommand(program: Command): void {
  benchGroup(program)
    .command('model')
    .description('Training seconds per epoch, and inference samples/s of a device section and of the whole DDNN: tfjs-wasm vs bit-packed kernels')
    .option('--data <dir>', 'dataset folder (default: the synthetic default dataset, generated into a temporary folder)', pathFlag('--data'))
    .option('--model <dir>', 'checkpoint to run inference with (default: the model trained for --epochs here)', pathFlag('--model'))
    .option('--epochs <n>', 'epochs of each training run (paper recipe, then the defaults) for the s/epoch figures (0: skip; needs --model)', intFlag('--epochs', 0), 3)
    .option('--samples <n>', 'test views per inference pass', intFlag('--samples', 1), 171)
    .option('--seconds <s>', 'minimum measuring time per figure', numberFlag('--seconds', 0.1, 600), 2)
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (flags: BenchModelFlags) => (await import('./bench-model')).runBenchModelCommand(flags));
}

/** `ddnn bench session`: a six-device simulated session with every event persisted vs the model alone. */
export function registerBenchSessionCommand(program: Command): void {
  benchGroup(program)
    .command('session')
    .description('Samples/s of a six-device simulated session with every event persisted, vs the model-only inference rate, with the share of time in model, transport and logging')
    .option('--model <dir>', 'checkpoint directory', pathFlag('--model'), path.join(repoRoot(), 'models', 'default'))
    .option('--threshold <T>', 'local exit threshold', numberFlag('--threshold', 0, 1), 0.8)
    .option('--mode <mode>', 'production | research', (v) => {
      if (v !== 'production' && v !== 'research') throw new Error(`--mode must be production or research, got "${v}"`);
      return v;
    }, 'production')
    .option('--window <n>', 'samples in flight per session (DDNN_SESSION_WINDOW)', intFlag('--window', 1))
    .option('--repeat <n>', 'measured sessions of the whole test split, back to back after the warm-up sessions (their samples/s is the total)', intFlag('--repeat', 1), 3)
    .option('--warmup <n>', 'unmeasured sessions of the whole test split first, for the JIT to settle', intFlag('--warmup', 1), 3)
    .option('--root <dir>', "checkout whose API and model code are measured (default: this one); e.g. a worktree of an older commit, measured by this benchmark's method", pathFlag('--root'))
    .addOption(
      new Option('--model-only-views <which>', "views the model-only rate computes: captured (the platform's devices skip a view not captured), all (a checkout older than that rule, e.g. 4656ae2)")
        .choices(['captured', 'all'])
        .default('captured'),
    )
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (flags: BenchSessionFlags) => (await import('./bench-session')).runBenchSessionCommand(flags));
}

/** `ddnn bench stream`: the highest rate a six-device stream holds with decisions under a second, vs the model alone. */
export function registerBenchStreamCommand(program: Command): void {
  benchGroup(program)
    .command('stream')
    .description(
      'The highest rate a six-device simulated stream holds for --seconds with p99 decision lag under --lag-ms (every event persisted; each rate on an API and database of its own), vs the model-only inference rate',
    )
    .option('--model <dir>', 'checkpoint directory', pathFlag('--model'), path.join(repoRoot(), 'models', 'default'))
    .option('--threshold <T>', 'local exit threshold', numberFlag('--threshold', 0, 1), 0.8)
    .option('--seconds <s>', 'how long a rate must be held', numberFlag('--seconds', 1, 3600), 60)
    .option('--lag-ms <ms>', 'decision lag limit (trigger to the durable decision)', numberFlag('--lag-ms', 1, 60_000), 1000)
    .option('--window <n>', 'samples in flight per stream (DDNN_SESSION_WINDOW)', intFlag('--window', 1))
    .option('--rates <list>', 'comma-separated rates (samples/s) to try as given, each for the whole window, instead of searching for the highest held', rateList)
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (flags: BenchStreamFlags) => (await import('./bench-stream')).runBenchStreamCommand(flags));
}

/** `ddnn bench faults`: a research session through dropped connections, a killed API and two bad devices. */
export function registerBenchFaultsCommand(program: Command): void {
  benchGroup(program)
    .command('faults')
    .description(
      'A research session on six device agents while the session pool loses its connections, the API is SIGKILLed and restarted, ' +
        'one device answers garbage and one crashes; then the log is read back and checked',
    )
    .option('--samples <n>', 'samples in the session', intFlag('--samples', 20), 500)
    .option('--cuts <n>', 'times the session pool loses its connections (pg_terminate_backend)', intFlag('--cuts', 0), 20)
    .option('--rate <n>', 'samples started per second', numberFlag('--rate', 0.1, 1000), 20)
    .option('--model <dir>', 'checkpoint directory', pathFlag('--model'), path.join(repoRoot(), 'models', 'default'))
    .option('--pool <application_name>', 'application_name of the API connections to cut (the node has one pool)', 'ddnn-api')
    .option('--device-wait-ms <ms>', 'DDNN_DEVICE_WAIT_MS of the API: how long a resumed session waits for its devices', intFlag('--device-wait-ms', 0), 20_000)
    .option('--without <faults>', `leave faults out, to tell which one a failure comes from (comma-separated: ${FAULTS.join(', ')}; --cuts 0 for the cuts)`, faultList, [])
    .option('--no-build', 'run the built dist/ of the API and the device agent as they are')
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (flags: FaultSuiteFlags) => (await import('./bench-faults')).runBenchFaultsCommand(flags));
}

/** `ddnn bench metrics`: the 7-day, one-minute metrics query over a seeded rollup (target < 200 ms). */
export function registerBenchMetricsCommand(program: Command): void {
  benchGroup(program)
    .command('metrics')
    .description('A 7-day chart at one-minute steps read from a seeded metrics rollup, as the Monitoring page asks for it (TEST_DATABASE_URL or an embedded server)')
    .option('--days <n>', 'days of one-minute cells to seed and query', intFlag('--days', 1), 7)
    .option('--rounds <n>', 'measurements per query (medians are reported)', intFlag('--rounds', 1), 7)
    .option('--json', 'print one JSON object as the last line of stdout')
    .action(async (flags: BenchMetricsFlags) => (await import('./bench-metrics')).runBenchMetricsCommand(flags));
}
