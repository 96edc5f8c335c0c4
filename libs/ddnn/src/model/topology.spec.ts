import { parseTopology, recommendedTopology, sectionNames, topologyShapes } from './topology';
import { sectionSpecs } from './params';

describe('topology', () => {
  it("defaults to the paper's configuration", () => {
    const t = parseTopology({});
    expect(t.devices).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t.device.filters).toEqual([4]);
    expect(t.local.aggregator).toBe('MP');
    expect(t.cloud).toEqual({ shared: [], aggregator: 'CC', filters: [16, 16], precision: 'binary', poolStride: 1, hidden: [] });
    const s = topologyShapes(t, [32, 32, 3], 3);
    expect(s.deviceFeatures).toEqual([16, 16, 4]);
    expect(s.cloudInput).toEqual([16, 16, 24]);
    expect(s.cloudFeatures).toEqual([16, 16, 16]);
    const cloud = sectionSpecs(t, s).find((x) => x.name === 'cloud')!;
    expect(cloud.params.map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
      'convp0.w:3x3x24x16',
      'convp0.bn.gamma:16',
      'convp0.bn.beta:16',
      'convp0.bn.mean:16',
      'convp0.bn.variance:16',
      'convp1.w:3x3x16x16',
      'convp1.bn.gamma:16',
      'convp1.bn.beta:16',
      'convp1.bn.mean:16',
      'convp1.bn.variance:16',
      'fc.w:4096x3',
      'fc.bn.gamma:3',
      'fc.bn.beta:3',
      'fc.bn.mean:3',
      'fc.bn.variance:3',
    ]);
  });

  it('gives float edge and cloud sections depth, width and hidden layers, with the same wire shapes', () => {
    const t = parseTopology(recommendedTopology(6, 3));
    expect(t.device.filters).toEqual([4]);
    expect(t.cloud).toEqual({ shared: [32], aggregator: 'AP', filters: [32], precision: 'float', poolStride: 2, hidden: [64] });
    const s = topologyShapes(t, [32, 32, 3], 3);
    // the devices' messages are the paper's
    expect(s.deviceFeatures).toEqual([16, 16, 4]);
    expect(s.cloudMessage).toEqual([16, 16, 4]);
    expect(s.cloudInput).toEqual([8, 8, 32]);
    expect(s.cloudFeatures).toEqual([4, 4, 32]);
    const cloud = sectionSpecs(t, s).find((x) => x.name === 'cloud')!;
    expect(cloud.params.filter((p) => p.name.endsWith('.w')).map((p) => `${p.name}:${p.shape.join('x')}:${p.kind}`)).toEqual([
      'shared0.w:3x3x4x32:float',
      'convp0.w:3x3x32x32:float',
      'hidden0.w:512x64:float',
      'fc.w:64x3:float',
    ]);
    expect(sectionSpecs(t, s).find((x) => x.name === 'device-0')!.params.every((p) => p.kind !== 'float')).toBe(true);
    // more classes, wider cloud
    expect(parseTopology(recommendedTopology(4, 10)).cloud).toMatchObject({ shared: [64], filters: [64] });
    const edge = parseTopology({ devices: [0, 1], edges: [{ name: 'e', devices: [0, 1], precision: 'float', hidden: [16] }] });
    expect(edge.edges[0]).toMatchObject({ precision: 'float', hidden: [16] });
    expect(topologyShapes(edge, [32, 32, 3], 3).edgeFeatures).toEqual([[8, 8, 16]]);
    expect(() => parseTopology({ cloud: { precision: 'double' } })).toThrow(/cloud\.precision/);
    expect(() => parseTopology({ cloud: { poolStride: 3 } })).toThrow(/cloud\.poolStride/);
  });

  it('derives 3-tier shapes and section names', () => {
    const t = parseTopology({ devices: [0, 1, 2, 3], cloud: { aggregator: 'MP' }, edges: [{ name: 'a', devices: [0, 1] }, { name: 'b', devices: [2, 3], aggregator: 'AP', filters: 16 }] });
    expect(sectionNames(t)).toEqual(['device-0', 'device-1', 'device-2', 'device-3', 'local', 'edge-a', 'edge-b', 'cloud']);
    const s = topologyShapes(t, [32, 32, 3], 3);
    expect(s.edgeFeatures).toEqual([
      [8, 8, 16],
      [8, 8, 16],
    ]);
    expect(s.cloudInput).toEqual([8, 8, 16]);
    const specs = sectionSpecs(t, s);
    expect(specs.find((x) => x.name === 'edge-a')!.params[0].shape).toEqual([3, 3, 8, 16]);
    expect(specs.find((x) => x.name === 'edge-b')!.params[0].shape).toEqual([3, 3, 4, 16]);
    expect(specs.find((x) => x.name === 'local')!.params).toEqual([]);
  });

  it('gives the local CC aggregator an n*C x C binary FC', () => {
    const t = parseTopology({ devices: [1, 4], local: { aggregator: 'CC' }, device: { blocks: 2, filters: [8, 2] } });
    const s = topologyShapes(t, [32, 32, 3], 3);
    expect(s.deviceFeatures).toEqual([8, 8, 2]);
    expect(sectionSpecs(t, s).find((x) => x.name === 'local')!.params.map((p) => p.shape)).toEqual([[6, 3], [3], [3], [3], [3]]);
  });

  it('rejects bad topologies with a clear message', () => {
    expect(() => parseTopology({ local: { aggregator: 'XX' } })).toThrow(/local\.aggregator/);
    expect(() => parseTopology({ devices: [0, 0] })).toThrow(/twice/);
    expect(() => parseTopology({ devices: [0, 1], edges: [{ name: 'a', devices: [0] }] })).toThrow(/device 1 belongs to no edge/);
    expect(() => parseTopology({ device: { blocks: 2, filters: [4] } })).toThrow(/blocks is 2/);
    expect(() => parseTopology({ colour: 'red' })).toThrow(/invalid topology/);
  });
});
