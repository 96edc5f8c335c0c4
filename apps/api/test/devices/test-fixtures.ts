import path from 'node:path';
import { DatasetWriter, synthManifest, synthSamples } from '@ddnn/datasets';
export { writeUntrainedCheckpoint } from '@ddnn/testing';

/**
 * A small synthetic six-camera dataset at <dataDir>/datasets/<name> in which every camera captured every sample (a
 * view the generator leaves out is another view of the same sample): the device and transport tests expect an
 * answer from every device they ask, and a replaying device reports a view that was not captured as a skipped
 * capture (the model family's rule; libs/ddnn view-source).
 */
export async function writeSmallDataset(dataDir: string, name = 'synth', samples = 12): Promise<string> {
  const dir = path.join(dataDir, 'datasets', name);
  const options = { samples, views: 6, seed: 5 };
  const writer = await DatasetWriter.create(dir, synthManifest(options));
  for (const s of synthSamples(options)) {
    const captured = s.views.find((v) => v !== null) ?? null;
    await writer.add(s.id, s.split, s.label, s.views.map((v) => v ?? captured));
  }
  await writer.finish();
  return dir;
}
