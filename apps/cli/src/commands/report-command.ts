import type { Command } from 'commander';
import { intFlag, numberFlag, pathFlag } from './model-options';

// The studies' implementation (TensorFlow.js, the datasets) loads only when the command runs.

export interface ReportFlags {
  data: string;
  out: string;
  /** Unset: TRAIN_DEFAULTS's. */
  epochs?: number;
  seed?: number;
  dropout?: number;
  cache: string;
  threshold: number;
  studies: Study[];
  scalingFilters: number;
  baseModel?: string;
  json?: boolean;
}

export const STUDIES = ['schemes', 'devices', 'filters'] as const;
export type Study = (typeof STUDIES)[number];

function studiesFlag(value: string): Study[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of list) if (!(STUDIES as readonly string[]).includes(s)) throw new Error(`--studies takes a comma-separated subset of ${STUDIES.join(', ')}, got "${s}"`);
  return list as Study[];
}

/** `ddnn report paper`: reproduces the paper's studies and writes Markdown, SVG charts and results.json. */
export function registerReportCommands(program: Command): void {
  const group = program.command('report').description('Reports built from trained models');
  group
    .command('paper')
    .description("Reproduce the paper's studies (threshold, nine schemes, 1-6 devices, device failure, f vs communication) into Markdown + SVG")
    .option('--data <dir>', 'dataset folder (synthesized with the defaults if absent)', pathFlag('--data'), 'data/synth')
    .option('--out <dir>', 'output folder', pathFlag('--out'), 'docs/results')
    .option('--epochs <n>', "training epochs per model (default: the paper recipe's)", intFlag('--epochs', 1))
    .option('--seed <n>', "training seed (default: the paper recipe's)", intFlag('--seed'))
    .option('--dropout <p>', "training device drop-out probability (default: the paper recipe's)", numberFlag('--dropout', 0, 1))
    .option('--threshold <T>', 'exit threshold of the scheme, device and failure studies', numberFlag('--threshold', 0, 1), 0.8)
    .option('--cache <dir>', 'trained models, reused across runs (keyed by configuration)', pathFlag('--cache'), 'tmp/ddnn-report-models')
    .option('--studies <list>', `studies besides the threshold/communication one (${STUDIES.join(',')})`, studiesFlag, [...STUDIES])
    .option('--scaling-filters <f>', 'device filters of the device-count and failure studies (paper: 16)', intFlag('--scaling-filters', 1), 16)
    .option('--base-model <dir>', 'checkpoint of the default configuration (from ddnn train) for the threshold, communication and f=4 failure studies, instead of training one with --epochs', pathFlag('--base-model'))
    .option('--json', 'print results.json as the last line')
    .action(async (flags: ReportFlags) => (await import('./report')).runReportPaper(flags));
}
