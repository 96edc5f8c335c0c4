import type { Command } from 'commander';

/** The `ddnn bench` group (npm run bench:*); each benchmark adds its own sub-command to it. */
export function benchGroup(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'bench');
  return existing ?? program.command('bench').description('Benchmarks that print numbers and ratios measured in the same run');
}
