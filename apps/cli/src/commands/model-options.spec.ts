import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregatorFlag, listFlag, numberFlag, topologyFromFlags } from './model-options';

describe('model flags', () => {
  // topologyFromFlags loads the model library when called; its TensorFlow.js start-up must finish inside the test run.
  // Compiling the library and starting wasm takes more than jest's 5 s default on a loaded machine.
  beforeAll(async () => {
    await (await import('@ddnn/ddnn')).ensureBackend();
  }, 60_000);

  it('parse lists, aggregators and numbers with errors that name the flag', () => {
    expect(listFlag('--fail')('2, 5')).toEqual([2, 5]);
    expect(() => listFlag('--fail')('2,x')).toThrow(/--fail must be a comma-separated list/);
    expect(aggregatorFlag()('cc')).toBe('CC');
    expect(numberFlag('--threshold', 0, 1)('0.8')).toBe(0.8);
    expect(() => numberFlag('--threshold', 0, 1)('1.5')).toThrow(/--threshold must be a number in \[0, 1\]/);
  });

  it('apply flags on top of a topology file and the defaults', async () => {
    expect(await topologyFromFlags({})).toMatchObject({ devices: [0, 1, 2, 3, 4, 5], device: { filters: [4] }, local: { aggregator: 'MP' }, cloud: { aggregator: 'CC' } });
    const dir = await mkdtemp(join(tmpdir(), 'ddnn-topo-'));
    const file = join(dir, 't.json');
    await writeFile(file, JSON.stringify({ devices: [0, 1], device: { blocks: 2, filters: 8 }, cloud: { aggregator: 'AP' } }));
    const t = await topologyFromFlags({ topology: file, deviceFilters: 2, localAgg: 'CC' });
    expect(t.devices).toEqual([0, 1]);
    expect(t.device.filters).toEqual([2, 2]);
    expect(t.local.aggregator).toBe('CC');
    expect(t.cloud.aggregator).toBe('AP');
    await writeFile(file, '{ nope');
    await expect(topologyFromFlags({ topology: file })).rejects.toThrow(/is not valid JSON/);
    await expect(topologyFromFlags({ localAgg: aggregatorFlag()('sum') })).rejects.toThrow(/--local-agg must be one of MP, AP, CC, got "SUM"/);
    await expect(topologyFromFlags({ topology: join(dir, 'missing.json') })).rejects.toThrow(/cannot read topology file/);
    // Not an object: refused as such, not filled in with the default devices (which the dataset may not have).
    for (const [text, got] of [['[]', 'an array'], ['null', 'null'], ['3', 'a number'], ['"x"', 'a string']]) {
      await writeFile(file, text);
      await expect(topologyFromFlags({ topology: file, devices: [0, 1] })).rejects.toThrow(`topology file ${file} must hold a JSON object of topology fields (devices, device, local, edges, cloud, exitWeights), got ${got}`);
    }
    await writeFile(file, JSON.stringify({ device: { blocks: 'two' } }));
    await expect(topologyFromFlags({ topology: file })).rejects.toThrow(`topology file ${file}: invalid topology at device.blocks`);
  });
});
