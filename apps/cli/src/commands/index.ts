import type { Command } from 'commander';
import { registerDatasetCommands } from './dataset';
import { registerTrainCommand } from './train';

/** Adds every command group to the program; each group lives in its own module. */
export function registerCommands(program: Command): void {
  void program;
  registerDatasetCommands(program);
  registerTrainCommand(program);
}
