import { abbreviateList, type DatasetManifest, type MultiViewDataset, type Split } from '@ddnn/datasets';
import type { BackendName } from '../backend';
import type { Topology } from '../model/topology';
import { checkTrainingMemory } from './memory-check';
import { resolveRecipe, type TrainOptions } from './options';
import { manifestProfile } from './recipe';

/** What `checkTrainingPlan` reads: a dataset's manifest and splits (its header is enough, no image). */
export interface TrainingPlanInput {
  manifest: DatasetManifest;
  splits: readonly Split[];
}

/**
 * Refuses, from the manifest and labels alone (before the images are loaded), a run that cannot work: a topology
 * naming a view the dataset lacks, fewer than 2 classes, no training samples, no test samples when `needsTest`, or
 * more memory than tfjs can allocate (checkTrainingMemory).
 */
export function checkTrainingPlan(data: TrainingPlanInput, topology: Topology, options: TrainOptions, backend: BackendName, needsTest = false): void {
  const m = data.manifest;
  const missing = topology.devices.find((v) => v >= m.views);
  if (missing !== undefined) throw new Error(`the model needs view ${missing} but the dataset has views 0..${m.views - 1}`);
  if (m.classes.length < 2) throw new Error('training needs at least 2 classes');
  const trainSamples = data.splits.filter((s) => s === 'train').length;
  if (trainSamples === 0) throw new Error('the dataset has no training samples (no row of labels.csv has split "train")');
  if (needsTest && trainSamples === data.splits.length) throw new Error('the dataset has no test samples (no row of labels.csv has split "test"): the trained model could not be evaluated');
  const recipe = resolveRecipe(manifestProfile(m, trainSamples), options);
  const trained = Math.max(1, Math.round(trainSamples * (1 - recipe.validationFraction)));
  checkTrainingMemory(topology, { height: m.height, width: m.width, channels: m.channels, batchSize: recipe.batchSize, trainSamples: trained }, backend);
}

/**
 * What is odd but trainable in a loaded dataset: a class with no training sample (its exits never learn it), a
 * device view never captured in the training split (its device never learns anything).
 */
export function trainingDataWarnings(ds: MultiViewDataset, topology: Topology): string[] {
  const m = ds.manifest;
  const perClass = new Array<number>(m.classes.length).fill(0);
  const perView = new Array<number>(m.views).fill(0);
  ds.splits.forEach((s, n) => {
    if (s !== 'train') return;
    perClass[ds.labels[n]]++;
    for (let v = 0; v < m.views; v++) perView[v] += ds.present[n * m.views + v];
  });
  const out: string[] = [];
  const empty = m.classes.filter((_, c) => perClass[c] === 0);
  if (empty.length) out.push(`${empty.length === 1 ? 'class' : 'classes'} ${abbreviateList(empty.map((c) => `"${c}"`))} ${empty.length === 1 ? 'has' : 'have'} no training sample: the model cannot learn ${empty.length === 1 ? 'it' : 'them'}`);
  const blind = topology.devices.filter((v) => v < m.views && perView[v] === 0);
  if (blind.length) out.push(`view${blind.length === 1 ? '' : 's'} ${blind.join(', ')} ${blind.length === 1 ? 'is' : 'are'} never captured in the training split: ${blind.length === 1 ? 'its device learns' : 'their devices learn'} nothing`);
  return out;
}
