import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTopology } from '../model/topology';
import { randomModel } from '../testing/random-model';
import { decodeSection, loadCheckpoint, loadSection, readCheckpointManifest, saveCheckpoint } from './checkpoint';

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
    await saveCheckpoint(dir, model);
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
});
