import type { DatasetView, ModelView } from '@ddnn/contracts';
import { defaultSessionForm as blankForm, FormError, parseTags, sessionRequest, simulationRequest, topologyFor, withCatalogDefaults } from './session-form';

const model = (id: string, views: number, edges: string[] = []): ModelView => ({
  id,
  name: id,
  version: 'v1',
  path: '',
  sections: [...Array.from({ length: views }, (_, v) => ({ name: `device-${v}`, file: '', bytes: 1 })), ...edges.map((e) => ({ name: e, file: '', bytes: 1 })), { name: 'cloud', file: '', bytes: 1 }],
  createdAt: '',
  threshold: 0.8,
  training: null,
  testMetrics: null,
});
const dataset = (name: string, views: number, test = 10): DatasetView => ({ name, classes: ['car', 'bus', 'person'], views, splits: { train: 10, test } });
const defaultSessionForm = withCatalogDefaults(blankForm, [model('other', 2), model('default', 6)], [dataset('empty', 6, 0), dataset('synth', 6)]);

const devs = [0, 1, 2, 3].map((i) => ({ deviceId: `d${i}`, view: i }));

describe('the start-session form', () => {
  it('takes its model, dataset and device count from what the API has, never a guess', () => {
    expect(blankForm.modelId).toBe('');
    expect(blankForm.dataset).toBe('');
    expect(() => sessionRequest(blankForm, devs)).toThrow(/Model is required/);
    expect(defaultSessionForm).toMatchObject({ modelId: 'default', dataset: 'synth', simulatedCount: '6', edges: '0' });
    // No `default` model: the first; a dataset without test samples is passed over.
    expect(withCatalogDefaults(blankForm, [model('m2', 2)], [dataset('a', 2, 0), dataset('b', 3)])).toMatchObject({ modelId: 'm2', dataset: 'b', simulatedCount: '2' });
    // Picking another model resets the device count and edges to that model's.
    expect(withCatalogDefaults(defaultSessionForm, [model('default', 6), model('e', 4, ['edge-a'])], [dataset('synth', 6)], 'e')).toMatchObject({ modelId: 'e', simulatedCount: '4', edges: '1', thresholdEdge: '0.8' });
    // A choice that still exists is kept.
    expect(withCatalogDefaults({ ...defaultSessionForm, modelId: 'other', simulatedCount: '2' }, [model('default', 6), model('other', 2)], [dataset('synth', 6)]).modelId).toBe('other');
  });

  it('sends the run name and tags when given', () => {
    expect(parseTags(' a, b  a,c ')).toEqual(['a', 'b', 'c']);
    expect(sessionRequest({ ...defaultSessionForm, name: ' night run ', tags: 'x, y' }, devs)).toMatchObject({ name: 'night run', tags: ['x', 'y'] });
    expect(sessionRequest(defaultSessionForm, devs)).not.toHaveProperty('name');
  });

  it('builds the simulation and session requests from the defaults', () => {
    expect(simulationRequest(defaultSessionForm)).toEqual({ devices: 6, failures: [] });
    const req = sessionRequest(defaultSessionForm, devs);
    expect(req).toMatchObject({ modelId: 'default', dataset: 'synth', split: 'test', mode: 'production', deadlineMs: 2000, policy: { kind: 'entropy', thresholds: { local: 0.8 } } });
    expect(req.topology).toEqual({ devices: devs });
    expect(req).not.toHaveProperty('limit');
  });

  it('deals devices round-robin to simulated edge nodes and applies the edge threshold', () => {
    const req = sessionRequest({ ...defaultSessionForm, edges: '2', thresholdEdge: '0.5', limit: '12' }, devs);
    expect(req.limit).toBe(12);
    expect(req.policy.thresholds).toEqual({ local: 0.8, edge: 0.5 });
    expect(req.topology.edges).toEqual([
      { name: 'edge-0', deviceId: null },
      { name: 'edge-1', deviceId: null },
    ]);
    expect(req.topology.devices.map((d) => d.edge)).toEqual(['edge-0', 'edge-1', 'edge-0', 'edge-1']);
    expect(topologyFor([{ deviceId: 'x', view: null }], 0)).toEqual({ devices: [{ deviceId: 'x', view: 0 }] });
  });

  it('names the bad field', () => {
    expect(() => sessionRequest({ ...defaultSessionForm, thresholdLocal: '1.5' }, devs)).toThrow(new FormError('Local threshold must be at most 1, got 1.5'));
    expect(() => sessionRequest({ ...defaultSessionForm, limit: '2.5' }, devs)).toThrow(/Sample limit must be a whole number/);
    expect(() => sessionRequest({ ...defaultSessionForm, dataset: '../etc' }, devs)).toThrow(/Dataset must be a dataset folder name/);
    expect(() => sessionRequest(defaultSessionForm, [])).toThrow(/at least one device/);
    expect(() => simulationRequest({ ...defaultSessionForm, failures: [{ device: '6', atSample: '0', kind: 'crash' }] })).toThrow(/Failure 1: device must be at most 5/);
    expect(() => simulationRequest({ ...defaultSessionForm, latencyMs: '10' })).toThrow(/both link latency and bandwidth/);
  });

  it('passes failures and the link model to the simulation', () => {
    expect(simulationRequest({ ...defaultSessionForm, latencyMs: '5', bandwidthKbps: '1000', failures: [{ device: '2', atSample: '10', kind: 'flaky' }] })).toEqual({
      devices: 6,
      failures: [{ device: 2, atSample: 10, kind: 'flaky' }],
      link: { latencyMs: 5, bandwidthKbps: 1000 },
    });
  });
});
