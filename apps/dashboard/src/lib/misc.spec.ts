import fs from 'node:fs';
import path from 'node:path';
import { toCsv } from './csv';
import { deviceAgentCommand } from './device-command';
import { ApiError } from './api';
import { className, fmtBytes, fmtPct } from './format';
import { fmtMetricTick } from './metrics';
import { laterCheckpoint } from './live';
import { layoutTopology } from './topology';
import { accuracyHalfWidth, linkModelOf, parseThresholds, presetPolicies } from './compare';

describe('toCsv', () => {
  it('quotes fields with commas, quotes and line breaks', () => {
    expect(toCsv(['a', 'b'], [['x,y', 'say "hi"'], [null, 3]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n,3\r\n');
  });
});

describe('deviceAgentCommand', () => {
  it('is the agent command with the provisioning key in its environment (not in ps), shell-quoted', () => {
    // The README's command: npm start keeps the datasets under .data/datasets.
    expect(deviceAgentCommand({ server: 'http://h:3000', profileKey: 'pk_ab-C', name: 'cam-3', view: '3', role: 'end-device' })).toBe(
      'DDNN_PROFILE_KEY=pk_ab-C npm run -s device -- --server http://h:3000 --name cam-3 --view 3 --data .data/datasets',
    );
    const readme = fs.readFileSync(path.join(__dirname, '../../../../README.md'), 'utf8');
    expect(readme).toContain('DDNN_PROFILE_KEY=ddnn_pk_... npm run -s device -- --server http://localhost:3000 --name cam-3 --view 3 --data .data/datasets');
    expect(deviceAgentCommand({ server: 'http://h', profileKey: '<PROFILE_KEY>', name: 'e1', view: '', role: 'edge', dataDir: '.data' })).toBe(
      "DDNN_PROFILE_KEY='<PROFILE_KEY>' npm run -s device -- --server http://h --name e1 --role edge --data .data",
    );
  });
});

describe('formatting and checkpoints', () => {
  it('formats bytes and percentages', () => {
    expect(fmtBytes(12)).toBe('12 B');
    expect(fmtBytes(2048)).toBe('2.0 KiB');
    expect(fmtBytes(null)).toBe('–');
    expect(fmtPct(0.1234)).toBe('12.3%');
  });
  it("names a class by the run's classes, by index where it has none", () => {
    expect(className(['car', 'bus', 'person'], 0)).toBe('car');
    expect(className(['car'], 2)).toBe('class 2');
    expect(className([], null)).toBe('unknown');
  });
  it('writes axis ticks short enough for their axis: no fixed decimals on round ticks', () => {
    expect(fmtMetricTick('per_minute', 600)).toBe('600/min');
    expect(fmtMetricTick('per_minute', 12_500)).toBe('13k/min');
    expect(fmtMetricTick('per_minute', 1_500)).toBe('1.5k/min');
    expect(fmtMetricTick('per_minute', 2.5)).toBe('2.5/min');
    expect(fmtMetricTick('per_second', 0.8)).toBe('0.8/s');
    expect(fmtMetricTick('per_second', 0.05)).toBe('0.05/s');
    expect(fmtMetricTick('per_second', 0)).toBe('0/s');
    expect(fmtMetricTick('milliseconds', 2_400_000)).toBe('2.4M ms');
    expect(fmtMetricTick('ratio', 0.25)).toBe('25%');
    expect(fmtMetricTick('ratio', 0.125)).toBe('12.5%');
    expect(fmtMetricTick('ratio_delta', -0.15)).toBe('-15 pts');
    expect(fmtMetricTick('entropy', 0.525)).toBe('0.525');
    expect(fmtMetricTick('ratio', null)).toBe('');
  });
  it('tells a 404 of a missing resource from a 404 of a route the API does not have', () => {
    const route = new ApiError(404, 'Cannot GET /api/devices/x/frobnicate', '/api/devices/x/frobnicate');
    const resource = new ApiError(404, 'no device garbage', '/api/devices/garbage');
    expect([route.routeMissing, route.notFound]).toEqual([true, false]);
    expect([resource.routeMissing, resource.notFound]).toEqual([false, true]);
    expect(new ApiError(400, 'Cannot GET /x', '/x').routeMissing).toBe(false);
  });
  it('orders checkpoints by transaction id, then position, as numbers', () => {
    expect(laterCheckpoint('9:100', '10:5')).toBe('10:5');
    expect(laterCheckpoint('10:50', '10:7')).toBe('10:50');
    expect(laterCheckpoint(null, '1:1')).toBe('1:1');
  });
});

describe('layoutTopology', () => {
  it('draws each device to local and to its edge, each edge to the cloud, with the logged bytes', () => {
    const { nodes, links } = layoutTopology(
      { devices: [{ deviceId: 'a', view: 0, edge: 'e0' }, { deviceId: 'b', view: 1, edge: 'e0' }], edges: [{ name: 'e0', deviceId: null }] },
      { 'a->local': 24, 'e0->cloud': 64 },
    );
    expect(nodes.map((n) => n.id).sort()).toEqual(['a', 'b', 'cloud', 'e0', 'local']);
    expect(links.map((l) => `${l.id}=${l.bytes}`).sort()).toEqual(['a->e0=0', 'a->local=24', 'b->e0=0', 'b->local=0', 'e0->cloud=64']);
  });
});

describe('compare inputs', () => {
  it('parses thresholds and names a bad one', () => {
    expect(parseThresholds('0.2, 0.5 0.8', 'T')).toEqual([0.2, 0.5, 0.8]);
    expect(() => parseThresholds('0.2, 2', 'Entropy thresholds')).toThrow('Entropy thresholds: "2" is not a threshold in [0, 1]');
  });
  it('labels presets without repeating equal local/edge thresholds', () => {
    const names = presetPolicies({ entropy: [0.5], confidence: [], baselines: true }).map((p) => p.name);
    expect(names).toEqual(['entropy T=0.5', 'always-local', 'always-cloud', 'raw-offload']);
  });
});

describe('compare uncertainty and link', () => {
  it('states the 95% interval of an accuracy: about +/- 4.5 points at 90% on 171 samples', () => {
    expect(accuracyHalfWidth(0.9, 171)).toBeCloseTo(0.045, 3);
    expect(accuracyHalfWidth(0.5, 100)).toBeCloseTo(0.098, 3);
    // At 100% the normal approximation would claim certainty: the rule of three instead.
    expect(accuracyHalfWidth(1, 30)).toBeCloseTo(0.1, 6);
    expect(accuracyHalfWidth(null, 10)).toBeNull();
    expect(accuracyHalfWidth(0.8, 0)).toBeNull();
  });
  it("uses the session's recorded link for every message, and none when none was recorded", () => {
    expect(linkModelOf({ latencyMs: 20, bandwidthKbps: 1000 })).toEqual({ default: { latencyMs: 20, bandwidthKbps: 1000 } });
    expect(linkModelOf(null)).toBeUndefined();
  });
});
