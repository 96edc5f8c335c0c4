import path from 'node:path';
import { writeSynthDataset } from '@ddnn/datasets';
export { writeUntrainedCheckpoint } from '@ddnn/testing';

/** A small synthetic six-camera dataset at <dataDir>/datasets/<name>. */
export async function writeSmallDataset(dataDir: string, name = 'synth', samples = 12): Promise<string> {
  const dir = path.join(dataDir, 'datasets', name);
  await writeSynthDataset(dir, { samples, views: 6, seed: 5 });
  return dir;
}
