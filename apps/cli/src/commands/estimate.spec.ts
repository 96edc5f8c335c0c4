import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { estimateAgainstTruth } from './estimate-report';
import { repoRoot } from './repo-root';

// Renders two datasets of 851 samples and runs the model over them: about a minute on an idle machine.
jest.setTimeout(900_000);

describe('accuracy estimated without labels, on the default model and dataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-estimate-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // Out of sample (the reference is another recording), the realised accuracy of 171 samples itself spreads by
  // about 2.3 points around what any estimate can know; measured: 93.9% estimated vs 90.1% true (3.8 points),
  // the truth inside the interval. Calibrated on a labelled run of the same test split (the platform's default
  // reference, the demo session) the estimate is in-sample and closer.
  it('covers the accuracy the withheld labels give, within 4 points, per exit and overall', async () => {
    // The default dataset as `npm start` generates it (its test split, labels withheld) and, as the labelled
    // reference run, another recording of the same cameras (seed 2) the model never trained on.
    const { loadDataset, writeSynthDataset } = await import('@ddnn/datasets');
    const { DEFAULT_THRESHOLD, loadCheckpoint, runModel } = await import('@ddnn/ddnn');
    await writeSynthDataset(join(dir, 'ds'), {});
    await writeSynthDataset(join(dir, 'ref'), { seed: 2 });
    const ds = await loadDataset(join(dir, 'ds'));
    const refDs = await loadDataset(join(dir, 'ref'));
    const model = await loadCheckpoint(join(repoRoot(), 'models', 'default'));
    const reference = [await runModel(model, refDs, { split: 'train' }), await runModel(model, refDs, { split: 'test' })];
    const target = await runModel(model, ds, { split: 'test' });
    const report = estimateAgainstTruth(reference, target, model.threshold ?? DEFAULT_THRESHOLD);
    process.stdout.write(`estimate vs truth: ${JSON.stringify(report)}\n`);
    expect(report.targetSamples).toBe(171);
    expect(report.overall.errorPoints!).toBeLessThanOrEqual(4);
    expect(report.overall.low!).toBeLessThanOrEqual(report.overall.truth!);
    expect(report.overall.high!).toBeGreaterThanOrEqual(report.overall.truth!);
    for (const line of Object.values(report.exits)) {
      expect(line!.low!).toBeLessThanOrEqual(line!.truth!);
      expect(line!.high!).toBeGreaterThanOrEqual(line!.truth!);
    }
  });
});
