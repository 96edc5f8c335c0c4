import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@ddnn/testing';
import { modelFacts } from './model-facts';

describe('modelFacts', () => {
  it('reads the threshold, training record and test metrics of the default checkpoint', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'models', 'default', 'manifest.json'), 'utf8'));
    const facts = modelFacts(manifest);
    expect(facts.threshold).toBe(manifest.threshold);
    expect(facts.training?.epochs).toBe(manifest.training.epochs);
    expect(facts.training?.exits.map((e) => e.exit)).toContain('cloud');
    expect(facts.testMetrics?.overall).toBe(manifest.metrics.test.overall);
  });

  it('leaves out what a hostile or old manifest gets wrong instead of passing it on', () => {
    expect(modelFacts(null)).toEqual({ threshold: null, training: null, testMetrics: null });
    const facts = modelFacts({
      threshold: 7,
      training: { epochs: 'many', dataset: 'x'.repeat(10_000), validation: { samples: NaN }, finalExits: [{ exit: 'cloud', accuracy: Infinity }] },
      metrics: { test: { samples: 10, overall: 0.9 } },
    });
    expect(facts.threshold).toBeNull();
    expect(facts.training).toEqual(expect.objectContaining({ epochs: null, dataset: null, validation: null, exits: [] }));
    expect(facts.testMetrics).toBeNull();
  });

  it('passes on how many samples each exit saw, so a device that captured none reads n/a, not 0%', () => {
    const facts = modelFacts({ training: { finalExits: [{ exit: 'device-0', accuracy: 0, samples: 0 }, { exit: 'cloud', accuracy: 0.9, samples: 40 }, { exit: 'local', accuracy: 0.8 }] } });
    expect(facts.training?.exits).toEqual([
      { exit: 'device-0', accuracy: 0, samples: 0 },
      { exit: 'cloud', accuracy: 0.9, samples: 40 },
      { exit: 'local', accuracy: 0.8, samples: null },
    ]);
  });
});
