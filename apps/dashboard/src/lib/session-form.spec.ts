import { defaultSessionForm, FormError, sessionRequest, simulationRequest, topologyFor } from './session-form';

const devs = [0, 1, 2, 3].map((i) => ({ deviceId: `d${i}`, view: i }));

describe('the start-session form', () => {
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
