import { Command } from 'commander';
import { registerCommands } from './commands';

/** The `ddnn` command line: every sub-command is registered from ./commands. */
export function buildProgram(): Command {
  const program = new Command('ddnn')
    .description('Datasets, training, evaluation and reports for distributed deep neural networks')
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCommands(program);
  return program;
}
