import type { Command } from 'commander';
import { registerBenchEventsCommand } from './bench-events';
import { registerEventsCommands } from './events';
import { registerBenchModelCommand } from './bench-model';
import { registerBenchSessionCommand } from './bench-session';
import { registerBenchFaultsCommand } from './bench-faults';
import { registerDatasetCommands } from './dataset';
import { registerTrainCommand } from './train';
import { registerEvalCommands } from './eval';
import { registerReportCommands } from './report';
import { registerAnalyzeCommand } from './analyze';
import { registerExportCommand } from './export';
import { registerBenchAnalysisCommand } from './bench-analysis';
import { registerReportSessionCommand } from './report-session';

/** Adds every command group to the program; each group lives in its own module. */
export function registerCommands(program: Command): void {
  registerBenchEventsCommand(program);
  registerEventsCommands(program);
  registerBenchModelCommand(program);
  registerBenchSessionCommand(program);
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
