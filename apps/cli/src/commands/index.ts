import type { Command } from 'commander';
import { registerBenchModelCommand } from './bench-model';
import { registerDatasetCommands } from './dataset';
import { registerTrainCommand } from './train';
import { registerEvalCommands } from './eval';

/** Adds every command group to the program; each group lives in its own module. */
export function registerCommands(program: Command): void {
  void program;
  registerBenchModelCommand(program);
  registerDatasetCommands(program);
  registerTrainCommand(program);
  registerEvalCommands(program);
}
