import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CompareResponse, CompareRow, PolicySpec, SampleWindow, SessionView, SweepResult, ThresholdStatistic } from '@ddnn/contracts';
import type { paretoFrontier } from '@ddnn/policies';
import { formatRows, parseWindows, PlatformClient, readPoliciesFile, serverOptions, type ServerFlags } from './analyze';
import { lineChart, type Series } from './report-charts';
import { intFlag, pathFlag } from './model-options';
import { log } from '../log';

const STATISTICS: ThresholdStatistic[] = ['entropy', 'confidence', 'margin'];

/** The policies compared when no --policies file is given: the paper's rule at several T and the baselines. */
export function defaultPolicies(live?: { local: number; edge?: number }): PolicySpec[] {
  const entropy = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9].map((local): PolicySpec => ({ kind: 'entropy', thresholds: { local } }));
  return [
    ...(live ? [{ kind: 'entropy', name: `live policy (T=${live.local})`, thresholds: live } as PolicySpec] : []),
    ...entropy,
    { kind: 'confidence', thresholds: { local: 0.8 } },
    { kind: 'margin', thresholds: { local: 0.5 } },
    { kind: 'always-local' },
    { kind: 'always-cloud' },
    { kind: 'raw-offload' },
    { kind: 'budget', statistic: 'entropy', minLocalExitRate: 0.6 },
  ];
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);

/** The Markdown table of compare rows (exit rates per tier, bytes, latency, Pareto mark). */
function rowsTable(rows: CompareRow[]): string {
  const tiers = [...new Set(rows.flatMap((r) => (r.evaluable ? r.exits.map((e) => e.tier) : [])))];
  const head = ['policy', 'accuracy', ...tiers.map((t) => `${t} exit`), 'bytes/sample', 'mean latency', 'Pareto'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (!r.evaluable) {
      lines.push(`| ${r.label} | not evaluable: ${r.reason} |${tiers.map(() => '').join(' |')} | | | |`);
      continue;
    }
    const rate = (t: string) => pct(r.exits.find((e) => e.tier === t)?.exitRate ?? 0);
    lines.push(`| ${r.label} | ${pct(r.accuracy)} | ${tiers.map(rate).join(' | ')} | ${r.bytesPerSample.toFixed(1)} | ${r.latency.meanMs.toFixed(1)} ms | ${r.dominated ? '' : 'frontier'} |`);
  }
  return lines.join('\n') + '\n';
}

/** Charts in the style of the paper's threshold figure: accuracy vs T, local exit rate vs T, accuracy vs bytes. */
export function sessionCharts(sweeps: SweepResult[], rows: CompareRow[], frontierOf: typeof paretoFrontier): [string, string][] {
  // Sweep points that have an accuracy (evaluable, some labels); accuracy in percent.
  const ok = (s: SweepResult) =>
    s.points.flatMap((p) => (p.evaluable && p.accuracy !== null ? [{ threshold: p.threshold, accuracy: 100 * p.accuracy, bytesPerSample: p.bytesPerSample, localExitRate: p.localExitRate }] : []));
  const accuracy: Series[] = sweeps.map((s) => ({ name: s.statistic, points: ok(s).map((p) => [p.threshold, p.accuracy]) }));
  const exits: Series[] = sweeps.map((s) => ({ name: s.statistic, points: ok(s).map((p) => [p.threshold, 100 * p.localExitRate]) }));
  const evaluable = rows.filter((r): r is Extract<CompareRow, { evaluable: true }> => r.evaluable && r.accuracy !== null);
  // The chart line library draws polylines only, so the policies' frontier is a line and dominated policies
  // stay in the table; raw offload (~20x the bytes) would squash every other point, so it stays there too.
  const sweepBytes = sweeps.flatMap((s) => ok(s).map((p) => p.bytesPerSample));
  const maxBytes = 2 * Math.max(1, ...sweepBytes);
  const frontier = evaluable.filter((r) => !r.dominated && r.bytesPerSample <= maxBytes).sort((a, b) => a.bytesPerSample - b.bytesPerSample);
  const allPoints = sweeps.flatMap((s) => ok(s));
  const sweepFrontier = frontierOf(allPoints).filter((p) => !p.dominated).sort((a, b) => a.bytesPerSample - b.bytesPerSample);
  const pareto: Series[] = [
    ...sweeps.map((s) => ({ name: `${s.statistic} sweep`, points: ok(s).map((p): [number, number] => [p.bytesPerSample, p.accuracy]) })),
    { name: 'sweeps: frontier', points: sweepFrontier.map((p): [number, number] => [p.bytesPerSample, p.accuracy]) },
    { name: 'policies: frontier', points: frontier.map((r): [number, number] => [r.bytesPerSample, 100 * (r.accuracy ?? 0)]) },
  ].filter((s) => s.points.length > 0);
  const accs = pareto.flatMap((s) => s.points.map((p) => p[1]));
  const accRange: [number, number] = [Math.max(0, Math.floor(Math.min(...accs) / 5) * 5 - 5), Math.min(100, Math.ceil(Math.max(...accs) / 5) * 5 + 5)];
  const charts: [string, string][] = [];
  if (accuracy.some((s) => s.points.length)) {
    charts.push(['threshold-accuracy.svg', lineChart({ title: 'Overall accuracy vs exit threshold T', xLabel: 'threshold T', yLabel: 'accuracy (%)', series: accuracy.filter((s) => s.points.length), yRange: [0, 100] })]);
    charts.push(['threshold-local-exit.svg', lineChart({ title: 'Local exit rate vs exit threshold T', xLabel: 'threshold T', yLabel: 'local exit (%)', series: exits.filter((s) => s.points.length), yRange: [0, 100] })]);
  }
  if (pareto.length) charts.push(['accuracy-vs-bytes.svg', lineChart({ title: 'Accuracy vs bytes per sample (Pareto frontier)', xLabel: 'bytes per sample (all links)', yLabel: 'accuracy (%)', series: pareto, yRange: accRange })]);
  return charts;
}

/** The report's Markdown: what the session is, the comparison table, the charts. */
export function sessionMarkdown(o: { sessionId: string; view: SessionView | null; rows: CompareRow[]; sweeps: SweepResult[]; charts: string[]; window?: SampleWindow }): string {
  const v = o.view;
  const notEvaluable = o.sweeps.filter((s) => s.points.some((p) => !p.evaluable));
  return [
    `# Policy analysis of session ${o.sessionId}`,
    '',
    v
      ? `Model \`${v.modelId}\`, dataset \`${v.dataset}\` (${v.split}), **${v.mode}** mode, live policy entropy T=${v.policy.thresholds.local}` +
        `${v.policy.thresholds.edge !== undefined ? ` / edge ${v.policy.thresholds.edge}` : ''}, ${v.samplesDone} samples, status ${v.status}.`
      : 'The session is not in the sessions table (its events are analysed as they are).',
    ...(o.window ? ['', `Only samples ${o.window.fromSample} to ${o.window.toSample} of the run are analysed (--window).`] : []),
    '',
    'Every number below is a counterfactual: what a live session with that policy would have answered and sent on the',
    "samples this session saw, computed from its events alone (no model run). Bytes are the non-shadow bytes per sample",
    'over all links; latency is the link model estimate. "frontier" marks the accuracy-vs-bytes Pareto frontier.',
    '',
    '## Policies compared',
    '',
    rowsTable(o.rows),
    ...(o.charts.length
      ? [
          '## Threshold curves',
          '',
          'Accuracy and local exit rate against the threshold T of each statistic (entropy: exit iff eta < T; confidence and',
          'margin: exit iff the statistic > T), as in the paper\'s threshold figure; then accuracy against bytes per sample for',
          'every sweep point, the frontier of those points, and the frontier of the compared policies (dominated policies, and',
          'policies far beyond the sweeps in bytes such as raw offload, are in the table only).',
          '',
          ...o.charts.map((c) => `![${c}](${c})\n`),
        ]
      : []),
    ...(notEvaluable.length
      ? [`Threshold points this ${v?.mode ?? ''} session cannot evaluate (outputs never computed) are left out of the curves.`, '']
      : []),
  ].join('\n');
}

interface ReportSessionFlags extends ServerFlags {
  out: string;
  window?: string;
  policies?: string;
  points: number;
  json?: boolean;
}

/** `ddnn report session ID`: Markdown + SVG comparing exit policies on one recorded session, via the REST API. */
export function registerReportSessionCommand(program: Command): void {
  const group = program.commands.find((c) => c.name() === 'report') ?? program.command('report').description('Reports');
  serverOptions(
    group
      .command('session')
      .description('Compare exit policies on a recorded session: Markdown with threshold and Pareto charts (SVG)')
      .argument('<id>', 'session id')
      .requiredOption('--out <dir>', 'output folder', pathFlag('--out'))
      .option('--policies <file>', 'policies to compare (default: the live policy, entropy at 6 thresholds, the baselines, a budget policy)', pathFlag('--policies'))
      .option('--points <n>', 'thresholds per sweep', intFlag('--points', 2), 100)
      .option('--window <from-to>', 'only these samples of the run, e.g. 100-499 (a stream needs one: it has no end); as analyze --window')
      .option('--json', 'print {"sessionId","rows","sweeps"} as the last line'),
  ).action(async (id: string, flags: ReportSessionFlags) => {
    // Checked here, not by the flag's parser: `ddnn --help` loads no library (cli.e2e), and the bound is the API's.
    const { MAX_SWEEP_POINTS } = await import('@ddnn/contracts');
    if (flags.points > MAX_SWEEP_POINTS) throw new Error(`--points must be an integer from 2 to ${MAX_SWEEP_POINTS}, got "${flags.points}"`);
    const window = flags.window === undefined ? undefined : (await parseWindows([flags.window], id))[id];
    const client = new PlatformClient(flags);
    const view = await client.json<SessionView>('GET', `/sessions/${encodeURIComponent(id)}`).catch((e: Error) => {
      if (/\((400|404)\)/.test(e.message)) return null;
      throw e;
    });
    const file = flags.policies ? await readPoliciesFile(flags.policies) : { policies: defaultPolicies(view?.policy.thresholds) };
    const { rows } = await client
      .json<CompareResponse>('POST', '/analysis/compare', { sessionIds: [id], ...file, ...(window ? { windows: { [id]: window } } : {}) })
      .catch((e: Error) => {
        // The API names its own request field; the person at the terminal needs this command's option.
        if (!window && /\(400\): run \S+ is a stream/.test(e.message)) throw new Error(`${id} is a stream, which has no end: name the samples to analyse with --window <first sample>-<last sample>, e.g. --window 0-499`);
        throw e;
      });
    const range = window ? `&fromSample=${window.fromSample}&toSample=${window.toSample}` : '';
    const sweeps: SweepResult[] = [];
    for (const statistic of STATISTICS) {
      sweeps.push(await client.json<SweepResult>('GET', `/analysis/sweep?sessionId=${encodeURIComponent(id)}&policy=${statistic}&points=${flags.points}${range}`));
    }
    const { paretoFrontier } = await import('@ddnn/policies');
    const charts = sessionCharts(sweeps, rows, paretoFrontier);
    const out = resolve(flags.out);
    await mkdir(out, { recursive: true });
    for (const [name, svg] of charts) await writeFile(join(out, name), svg);
    await writeFile(join(out, 'README.md'), sessionMarkdown({ sessionId: id, view, rows, sweeps, charts: charts.map((c) => c[0]), window }));
    await writeFile(join(out, 'results.json'), JSON.stringify({ sessionId: id, ...(window ? { window } : {}), rows, sweeps }, null, 2) + '\n');
    process.stderr.write(formatRows(rows));
    log(`wrote ${out}/README.md and ${charts.length} charts`);
    if (flags.json) process.stdout.write(`${JSON.stringify({ sessionId: id, rows, sweeps })}\n`);
  });
}
