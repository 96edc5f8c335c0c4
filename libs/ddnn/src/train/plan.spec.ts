import { parseTopology, recommendedTopology } from '../model/topology';
import { tinyDataset } from '../testing/tiny-dataset';
import { checkInferenceMemory, checkTrainingMemory, inferenceBatchLimit, trainingMemory, TFJS_WASM_MAX_BYTES } from './memory-check';
import { checkTrainingPlan, trainingDataWarnings } from './plan';

describe('the training plan, checked from the manifest and labels', () => {
  const manifest = { name: 'm', classes: ['a', 'b', 'c'], views: 2, height: 8, width: 8, channels: 1 as const };
  const topology = parseTopology({ devices: [0, 1] });

  it('refuses a missing split, a view the dataset lacks, too few classes', () => {
    expect(() => checkTrainingPlan({ manifest, splits: ['train', 'train'] }, topology, {}, 'wasm', true)).toThrow(/^the dataset has no test samples/);
    expect(() => checkTrainingPlan({ manifest, splits: ['train', 'train'] }, topology, {}, 'wasm')).not.toThrow();
    expect(() => checkTrainingPlan({ manifest, splits: ['test'] }, topology, {}, 'wasm')).toThrow(/^the dataset has no training samples/);
    expect(() => checkTrainingPlan({ manifest: { ...manifest, views: 1 }, splits: ['train', 'test'] }, topology, {}, 'wasm')).toThrow('the model needs view 1 but the dataset has views 0..0');
    expect(() => checkTrainingPlan({ manifest: { ...manifest, classes: ['a'] }, splits: ['train', 'test'] }, topology, {}, 'wasm')).toThrow('training needs at least 2 classes');
  });

  it('sizes a run by its step and its calibration pass, and refuses what the wasm backend cannot hold', () => {
    // The default dataset (6 views of 32x32x3, ~680 training samples) is far below the limit.
    const paperSized = { height: 32, width: 32, channels: 3, batchSize: 64, trainSamples: 612 };
    const defaults = parseTopology(recommendedTopology(6, 3));
    expect(trainingMemory(defaults, paperSized).peakBytes).toBeLessThan(TFJS_WASM_MAX_BYTES / 10);
    expect(() => checkTrainingMemory(defaults, paperSized, 'wasm')).not.toThrow();
    // The review's dataset: 64 views of 1024x1024x3, batch 1: one step alone is over 4 GiB.
    const huge = parseTopology({ devices: Array.from({ length: 64 }, (_, i) => i) });
    const big = { height: 1024, width: 1024, channels: 3, batchSize: 1, trainSamples: 3 };
    expect(trainingMemory(huge, big).stepBytes).toBe(4 * 64 * 1024 * 1024 * (11 * 3 + 2 * 4));
    expect(() => checkTrainingMemory(huge, big, 'wasm')).toThrow(/^training cannot fit in the tfjs wasm backend's 4\.0 GiB of memory: one step of 1 sample \(64 views of 1024x1024x3\) needs at least 10\.3 GiB; use smaller images/);
    // A larger batch can be cut down: the message says so.
    const one = parseTopology({ devices: [0] });
    expect(() => checkTrainingMemory(one, { ...big, batchSize: 64, trainSamples: 200 }, 'wasm')).toThrow(/or a smaller batch \(--batch\)$/);
    // The native backend has no 4 GiB memory.
    expect(() => checkTrainingMemory(huge, big, 'tensorflow')).not.toThrow();
  });

  it('gives inference (eval) the largest batch that fits', () => {
    const one = parseTopology({ devices: [0] });
    // 1024x1024x3 with 4 filters: 28 MiB a view, so 146 views fit in 4 GiB.
    expect(inferenceBatchLimit(one, { height: 1024, width: 1024, channels: 3 }, 'wasm')).toBe(146);
    expect(inferenceBatchLimit(one, { height: 32, width: 32, channels: 3 }, 'wasm')).toBeGreaterThan(256);
    expect(() => checkInferenceMemory(one, { height: 1024, width: 1024, channels: 3, batchSize: 146 }, 'wasm')).not.toThrow();
    expect(() => checkInferenceMemory(one, { height: 1024, width: 1024, channels: 3, batchSize: 256 }, 'wasm')).toThrow(
      "inference cannot fit in the tfjs wasm backend's 4.0 GiB of memory: a batch of 256 views of 1024x1024x3 needs at least 7.0 GiB; use --batch 146 or less",
    );
  });

  it('warns about a class without training samples and a view never captured', () => {
    const ds = tinyDataset({ samples: 40, views: 2, missing: 0 });
    expect(trainingDataWarnings(ds, topology)).toEqual([]);
    ds.splits.forEach((_, n) => {
      if (ds.labels[n] === 1) ds.splits[n] = 'test';
      ds.present[n * 2 + 1] = 0;
    });
    expect(trainingDataWarnings(ds, topology)).toEqual([
      `class "${ds.manifest.classes[1]}" has no training sample: the model cannot learn it`,
      'view 1 is never captured in the training split: its device learns nothing',
    ]);
  });
});
