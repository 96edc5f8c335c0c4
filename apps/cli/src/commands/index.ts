import type { Command } from 'commander';

/** Adds every command group to the program; each group lives in its own module. */
export function registerCommands(program: Command): void {
  void program;
}
