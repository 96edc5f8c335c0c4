import type { Command } from 'commander';
import { registerBenchEventsCommand, registerBenchFaultsCommand, registerBenchModelCommand, registerBenchSessionCommand, registerBenchStreamCommand } from './bench';
import { registerEventsCommands } from './events';
import { registerDatasetCommands } from './dataset';
import { registerTrainCommand } from './train';
import { registerEvalCommands } from './eval';
import { registerReportCommands } from './report-command';
import { registerAnalyzeCommand } from './analyze';
import { registerExportCommand } from './export';
import { registerBenchAnalysisCommand } from './bench-analysis';
import { registerReportSessionCommand } from './report-session';

/**
 * Adds every command group. These modules hold only the commands' descriptions and flags: each action imports its
 * implementation (TensorFlow.js, the datasets, pg) when it runs, so `ddnn --help` starts at once.
 */
export function registerCommands(program: Command): void {
  registerBenchEventsCommand(program);
  registerEventsCommands(program);
  registerBenchModelCommand(program);
  registerBenchSessionCommand(program);
  registerBenchStreamCommand(program);
  registerBenchFaultsCommand(program);
  registerDatasetCommands(program);
  registerTrainCommand(program);
  registerEvalCommands(program);
  registerReportCommands(program);
  registerAnalyzeCommand(program);
  registerExportCommand(program);
  registerBenchAnalysisCommand(program);
  registerReportSessionCommand(program); // after registerReportCommands: adds `report session` to its group
}
