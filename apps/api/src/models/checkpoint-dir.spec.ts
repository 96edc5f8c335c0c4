import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeUntrainedCheckpoint } from '../../test/devices/test-fixtures';
import { checkCheckpointWeights, CheckpointDirError, readCheckpointDir } from './checkpoint-dir';

describe('checkCheckpointWeights', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ddnn-cpdir-'));
    await writeUntrainedCheckpoint(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts finite weights and refuses a NaN or infinite one, naming the section and tensor (never a server path)', async () => {
    await expect(checkCheckpointWeights(await readCheckpointDir(dir))).resolves.toBeUndefined();
    const cloud = path.join(dir, 'cloud.bin');
    const bytes = await readFile(cloud);
    bytes.fill(0).writeFloatLE(NaN, 0);
    await writeFile(cloud, bytes);
    const cp = await readCheckpointDir(dir);
    const err = await checkCheckpointWeights(cp).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointDirError);
    expect((err as Error).message).toMatch(/^cloud\.bin: section cloud tensor [\w.]+ holds NaN at index 0$/);
    bytes.writeFloatLE(Infinity, 0);
    await writeFile(cloud, bytes);
    await expect(checkCheckpointWeights(cp)).rejects.toThrow(/section cloud tensor [\w.]+ holds Infinity/);
  });
});
