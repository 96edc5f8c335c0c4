import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, writeSynthDataset } from '@ddnn/datasets';
import { DEFAULT_THRESHOLD, loadCheckpoint, runModel } from '@ddnn/ddnn';
import { estimateAgainstTruth } from './estimate';
import { repoRoot } from './repo-root';

jest.setTimeout(300_000);

describe('accuracy estimated without labels, on the default model and dataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-estimate-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lies within 3 points of the accuracy the withheld labels give, per exit and overall', async () => {
    // The default dataset as `npm start` generates it; the labelled train split is the reference run.
    await writeSynthDataset(join(dir, 'ds'), {});
    const ds = await loadDataset(join(dir, 'ds'));
    const model = await loadCheckpoint(join(repoRoot(), 'models', 'default'));
    const reference = await runModel(model, ds, { split: 'train' });
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
