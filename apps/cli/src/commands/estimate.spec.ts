import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, writeSynthDataset } from '@ddnn/datasets';
import { DEFAULT_THRESHOLD, loadCheckpoint, runModel } from '@ddnn/ddnn';
import { estimateAgainstTruth } from './estimate';
import { repoRoot } from './repo-root';

// Renders two datasets of 851 samples and runs the model over them: about a minute on an idle machine.
jest.setTimeout(900_000);

describe('accuracy estimated without labels, on the default model and dataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-estimate-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lies within 3 points of the accuracy the withheld labels give, per exit and overall', async () => {
    // The default dataset as `npm start` generates it (its test split, labels withheld) and, as the labelled
    // reference run, another recording of the same cameras (seed 2) the model never trained on.
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
    expect(report.overall.errorPoints!).toBeLessThanOrEqual(3);
    expect(report.overall.low!).toBeLessThanOrEqual(report.overall.truth!);
    expect(report.overall.high!).toBeGreaterThanOrEqual(report.overall.truth!);
    for (const line of Object.values(report.exits)) if (line!.samples >= 50) expect(line!.errorPoints!).toBeLessThanOrEqual(3);
  });
});
