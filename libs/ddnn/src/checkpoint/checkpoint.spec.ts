import { mkdir, mkdtemp, readdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTopology } from '../model/topology';
import { randomModel } from '../testing/random-model';
import { CheckpointError, decodeSection, loadCheckpoint, loadSection, MAX_CHECKPOINT_MANIFEST_BYTES, readCheckpointManifest, saveCheckpoint } from './checkpoint';

describe('checkpoints', () => {
  let dir: string;
  const model = randomModel(parseTopology({ devices: [0, 2], local: { aggregator: 'CC' }, edges: [{ name: 'e1', devices: [0, 2] }] }), [8, 8, 3], 3, 3);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ddnn-ckpt-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips every tensor and writes one file per section', async () => {
    await saveCheckpoint(dir, model);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.formatVersion).toBe(2);
    expect(manifest.sections.map((s: { file: string }) => s.file)).toEqual(['device-0.bin', 'device-2.bin', 'local.bin', 'edge-e1.bin', 'cloud.bin']);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.topology).toEqual(model.topology);
    expect(loaded.classes).toEqual(model.classes);
    for (const [name, values] of model.sections) {
      for (const [tensor, v] of values) {
        const got = loaded.sections.get(name)!.get(tensor)!;
        expect(got.shape).toEqual(v.shape);
        expect(Array.from(got.data)).toEqual(Array.from(v.data));
      }
    }
  });

  it('stores a float cloud with shared blocks and the model threshold, and still reads format 1 checkpoints (binary, T = 0.8)', async () => {
    const sharedCloud = { shared: [3], aggregator: 'AP' as const, filters: [6], precision: 'float' as const, poolStride: 2, hidden: [5] };
    const float = { ...randomModel(parseTopology({ devices: [0, 1], cloud: sharedCloud }), [8, 8, 3], 3, 4), threshold: 0.35 };
    await saveCheckpoint(dir, float);
    const loaded = await loadCheckpoint(dir);
    expect(loaded.topology.cloud).toEqual(sharedCloud);
    expect(loaded.sections.get('cloud')!.get('shared0.w')!.shape).toEqual([3, 3, 4, 3]);
    expect(loaded.threshold).toBe(0.35);
    expect(loaded.sections.get('cloud')!.get('hidden0.w')!.shape).toEqual([1 * 1 * 6, 5]);

    // A format 1 manifest: no threshold, a topology without precision/poolStride/hidden (as models/default was written).
    await saveCheckpoint(dir, model, { overwrite: true });
    const path = join(dir, 'manifest.json');
    const v2 = JSON.parse(await readFile(path, 'utf8'));
    const { threshold: _dropped, ...rest } = v2;
    const cloud = { aggregator: 'CC', filters: [16, 16] };
    const edges = v2.topology.edges.map((e: Record<string, unknown>) => ({ name: e['name'], devices: e['devices'], aggregator: e['aggregator'], filters: e['filters'] }));
    await writeFile(path, JSON.stringify({ ...rest, formatVersion: 1, topology: { ...v2.topology, cloud, edges } }));
    const old = await loadCheckpoint(dir);
    expect(old.topology).toEqual(model.topology);
    expect(old.threshold).toBe(0.8);
  });

  it('lets a device read only its own section', async () => {
    await saveCheckpoint(dir, model);
    const manifest = await readCheckpointManifest(dir);
    const dev = await loadSection(dir, 'device-2', manifest);
    expect(Array.from(dev.get('convp0.w')!.data)).toEqual(Array.from(model.sections.get('device-2')!.get('convp0.w')!.data));
    const bytes = await readFile(join(dir, 'device-2.bin'));
    expect(decodeSection(manifest, 'device-2', bytes).get('fc.w')!.shape).toEqual([4 * 4 * 4, 3]);
    expect(() => decodeSection(manifest, 'device-2', bytes.subarray(4))).toThrow(/bytes, the manifest says/);
  });

  it('rejects a wrong format version, a shape mismatch and a missing file with clear errors', async () => {
    await saveCheckpoint(dir, model);
    const path = join(dir, 'manifest.json');
    const original = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...original, formatVersion: 99 }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/format version 99 is not supported/);

    const bad = structuredClone(original);
    bad.sections[4].tensors[0].shape = [3, 3, 16, 15];
    await writeFile(path, JSON.stringify(bad));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/section cloud tensor convp0.w has shape \[3,3,16,15\] but the topology needs \[3,3,16,16\]/);

    await writeFile(path, JSON.stringify(original));
    await rm(join(dir, 'local.bin'));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/local.bin is missing/);
    await expect(loadCheckpoint(join(dir, 'nowhere'))).rejects.toThrow(/not a model checkpoint/);
  });

  it('writes into a new or empty folder, replaces a checkpoint only with overwrite, and never writes among other files', async () => {
    const out = join(dir, 'model');
    await saveCheckpoint(out, model);
    await expect(saveCheckpoint(out, model)).rejects.toThrow(new CheckpointError(`${out} already holds a checkpoint; pass overwrite (--force) to replace it`));
    // Replaced whole: a section the new model lacks does not stay behind.
    await writeFile(join(out, 'device-9.bin'), 'stale');
    await saveCheckpoint(out, model, { overwrite: true });
    expect((await readdir(out)).sort()).toEqual(['cloud.bin', 'device-0.bin', 'device-2.bin', 'edge-e1.bin', 'local.bin', 'manifest.json']);
    expect((await loadCheckpoint(out)).classes).toEqual(model.classes);

    // A dataset (or any folder with other files) is refused even with overwrite, and left as it was.
    const data = join(dir, 'data');
    await mkdir(join(data, 'samples'), { recursive: true });
    await writeFile(join(data, 'manifest.json'), '{"name":"d"}');
    await writeFile(join(data, 'labels.csv'), 'sample,split,label\n');
    await expect(saveCheckpoint(data, model, { overwrite: true })).rejects.toThrow(`${data} is not empty and not a checkpoint folder (it holds labels.csv, samples)`);
    expect(await readFile(join(data, 'manifest.json'), 'utf8')).toBe('{"name":"d"}');
    expect((await readdir(data)).sort()).toEqual(['labels.csv', 'manifest.json', 'samples']);
    await expect(saveCheckpoint(join(data, 'labels.csv'), model, { overwrite: true })).rejects.toThrow(/labels\.csv is a file, not a checkpoint folder/);
    // An empty folder is written into.
    await mkdir(join(dir, 'empty'));
    await saveCheckpoint(join(dir, 'empty'), model);
  });

  it('reads no more of a section file than its manifest entry and no manifest over the cap, and refuses what is not a regular file', async () => {
    await saveCheckpoint(dir, model);
    const manifest = await readCheckpointManifest(dir);
    const expected = manifest.sections.find((s) => s.name === 'device-2')!.bytes;
    // /dev/zero never ends: it is refused as a device, not read.
    await rm(join(dir, 'device-2.bin'));
    await symlink('/dev/zero', join(dir, 'device-2.bin'));
    await expect(loadSection(dir, 'device-2', manifest)).rejects.toThrow(new CheckpointError(`checkpoint file ${join(dir, 'device-2.bin')} cannot be read: not a regular file: a device`));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/device-2\.bin cannot be read: not a regular file: a device/);
    // A regular file too large or too small is named with both sizes.
    await rm(join(dir, 'device-2.bin'));
    await writeFile(join(dir, 'device-2.bin'), Buffer.alloc(expected + 100));
    await expect(loadSection(dir, 'device-2', manifest)).rejects.toThrow(new CheckpointError(`device-2.bin has ${expected + 100} bytes, the manifest says ${expected}`));
    await truncate(join(dir, 'device-2.bin'), 100);
    await expect(loadSection(dir, 'device-2', manifest)).rejects.toThrow(new CheckpointError(`device-2.bin has 100 bytes, the manifest says ${expected}`));

    const path = join(dir, 'manifest.json');
    await writeFile(path, Buffer.alloc(MAX_CHECKPOINT_MANIFEST_BYTES + 1, 0x20));
    await expect(readCheckpointManifest(dir)).rejects.toThrow(new CheckpointError(`${path} cannot be a checkpoint manifest: ${MAX_CHECKPOINT_MANIFEST_BYTES + 1} bytes, more than the ${MAX_CHECKPOINT_MANIFEST_BYTES} allowed`));
    await rm(path);
    await symlink('/dev/zero', path);
    await expect(readCheckpointManifest(dir)).rejects.toThrow(new CheckpointError(`${path} cannot be a checkpoint manifest: not a regular file: a device`));
    await rm(path);
    await writeFile(path, 'SECRET-CONTENT that is not JSON');
    await expect(readCheckpointManifest(dir)).rejects.toThrow(new CheckpointError(`${path} is not valid JSON`));
  });

  it('refuses a NaN or infinite weight, naming the file, section and tensor', async () => {
    await saveCheckpoint(dir, model);
    const manifest = await readCheckpointManifest(dir);
    const entry = manifest.sections.find((s) => s.name === 'cloud')!;
    const tensor = entry.tensors[1];
    for (const [value, shown] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
      const bytes = await readFile(join(dir, 'cloud.bin'));
      bytes.writeFloatLE(value, tensor.offset + 4 * 3);
      expect(() => decodeSection(manifest, 'cloud', bytes)).toThrow(new CheckpointError(`cloud.bin: section cloud tensor ${tensor.name} holds ${shown} at index 3`));
      await writeFile(join(dir, 'cloud.bin'), bytes);
      await expect(loadCheckpoint(dir)).rejects.toThrow(`section cloud tensor ${tensor.name} holds ${shown}`);
    }
  });
});
