import type { Command } from 'commander';
import { benchGroup } from './bench';
import { intFlag } from './model-options';
import { log } from '../log';

interface BenchAnalysisFlags {
  samples: number;
  points: number;
  seed: number;
  json?: boolean;
}

const TARGET_MS = 1000;

/** `ddnn bench analysis` (npm run bench:analysis): a threshold sweep over a large session once its events are loaded. */
export function registerBenchAnalysisCommand(program: Command): void {
  benchGroup(program)
    .command('analysis')
    .description('Threshold sweep over a simulated research session: per-sample table, first and repeat sweep, per-point core')
    .option('--samples <n>', 'samples in the session', intFlag('--samples', 1), 100_000)
    .option('--points <n>', 'thresholds in the sweep', intFlag('--points', 2), 100)
    .option('--seed <n>', 'simulation seed', intFlag('--seed'), 1)
    .option('--json', 'print {"samples","points","sweepMs"} (and the other timings) as the last line')
    .action(async (flags: BenchAnalysisFlags) => {
      const { benchmarkSweep } = await import('@ddnn/policies');
      log(`simulating a research session of ${flags.samples} samples (not timed: as if loaded from the log)...`);
      const r = benchmarkSweep(flags.samples, flags.points, 'entropy', flags.seed);
      const ms = (x: number) => `${x.toFixed(0)} ms`;
      const lines = [
        `session: ${r.samples} samples, ${r.events} events (6 devices, research mode)`,
        `events -> per-sample table: ${ms(r.tableMs)}`,
        `${r.points}-point entropy sweep, fresh table: ${ms(r.sweepMs)} (target < ${TARGET_MS} ms: ${r.sweepMs < TARGET_MS ? 'met' : 'MISSED'})`,
        `same sweep again: ${ms(r.repeatSweepMs)}`,
        `per-point evaluation core (${r.points} passes): ${ms(r.linearSweepMs)} = ${r.speedup.toFixed(1)}x the repeat sweep`,
      ];
      process.stderr.write(lines.join('\n') + '\n');
      const result = { samples: r.samples, points: r.points, sweepMs: Math.round(r.sweepMs * 10) / 10, events: r.events, tableMs: Math.round(r.tableMs), repeatSweepMs: Math.round(r.repeatSweepMs * 10) / 10, linearSweepMs: Math.round(r.linearSweepMs), speedup: Math.round(r.speedup * 10) / 10 };
      process.stdout.write(flags.json ? `${JSON.stringify(result)}\n` : `sweep ${result.sweepMs} ms for ${r.points} points over ${r.samples} samples\n`);
    });
}
