import type { Command } from 'commander';
import { buildProgram } from './program';

/** Every command path under `cmd`, e.g. "bench events". */
function commandPaths(cmd: Command, prefix: string[] = []): string[] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()].join(' '), ...commandPaths(c, [...prefix, c.name()])]);
}

/** The help text commander prints for `cmd` (what `ddnn ... --help` shows). */
function help(cmd: Command): string {
  return cmd.helpInformation();
}

const EVERY_COMMAND = [
  'bench', 'bench events', 'bench model', 'bench session', 'bench stream', 'bench faults', 'bench metrics', 'bench datasets', 'bench analysis',
  'events', 'events rebuild-projections', 'events lag',
  'dataset', 'dataset synth', 'dataset split-grid', 'dataset info',
  'train', 'eval', 'sweep',
  'estimate',
  'report', 'report paper', 'report session',
  'analyze', 'export',
];

describe('ddnn program', () => {
  it('names itself and rejects an unknown command with a clear error', async () => {
    const program = buildProgram().exitOverride().configureOutput({ writeErr: () => undefined });
    expect(program.name()).toBe('ddnn');
    await expect(program.parseAsync(['node', 'ddnn', 'no-such-command'])).rejects.toThrow(/unknown command/);
  });

  it('registers every command, and each group\'s --help lists its commands and every flag of each', () => {
    const program = buildProgram();
    expect(commandPaths(program)).toEqual(EVERY_COMMAND);
    for (const group of [program, ...program.commands]) {
      const text = help(group);
      for (const sub of group.commands) expect(text).toContain(sub.name());
      for (const sub of group.commands) for (const option of sub.options) expect(help(sub)).toContain(option.flags);
    }
    const find = (cmd: Command | undefined, name: string) => cmd?.commands.find((c) => c.name() === name);
    expect(find(program, 'train')?.helpInformation()).toContain('--local-agg <agg>');
    expect(find(find(program, 'report'), 'paper')?.helpInformation()).toContain('--epochs <n>');
    expect(find(find(program, 'bench'), 'faults')?.helpInformation()).toContain('--without <faults>');
    // eval leaves its batch to runModel unless one is asked for: a default of 256 passed on was refused for large
    // images where sweep and estimate cut it down to what fits.
    expect(find(program, 'eval')?.options.find((o) => o.long === '--batch')?.defaultValue).toBeUndefined();
  });
});
