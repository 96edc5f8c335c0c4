import { parseLinkModel, parsePolicies, parsePolicy, policyLabel } from './policy-json';

describe('policy JSON form', () => {
  it.each([
    { kind: 'entropy', thresholds: { local: 0.8 } },
    { kind: 'entropy', name: 'paper', thresholds: { local: 0.8, edge: 0.6 } },
    { kind: 'confidence', thresholds: { local: 0.9 } },
    { kind: 'margin', thresholds: { local: 0.3 } },
    { kind: 'always-local' },
    { kind: 'always-cloud' },
    { kind: 'raw-offload' },
    { kind: 'budget', statistic: 'entropy', maxBytesPerSample: 40 },
    { kind: 'budget', statistic: 'margin', minLocalExitRate: 0.6 },
    {
      kind: 'budget', statistic: 'entropy', maxBytesPerSample: 40,
      fitted: { thresholds: { local: 0.7 }, sessionId: 's', samples: 10, accuracy: 0.9, bytesPerSample: 30, localExitRate: 0.5 },
    },
  ])('accepts %j and round-trips it', (json) => {
    expect(parsePolicy(JSON.parse(JSON.stringify(json)))).toEqual(json);
  });

  it.each([
    [{ kind: 'entropi', thresholds: { local: 0.8 } }, /kind/],
    [{ kind: 'entropy' }, /thresholds/],
    [{ kind: 'entropy', thresholds: { local: '0.8' } }, /thresholds\.local/],
    [{ kind: 'entropy', thresholds: { local: 0.8 }, extra: 1 }, /extra/],
    [{ kind: 'budget', statistic: 'entropy' }, /maxBytesPerSample or minLocalExitRate/],
    [{ kind: 'budget', statistic: 'entropy', minLocalExitRate: 2 }, /minLocalExitRate/],
    [{ kind: 'entropy', thresholds: { local: 1e308 } }, /at most 1[\s\S]*thresholds\.local/],
    [{ kind: 'margin', thresholds: { local: -0.1 } }, /at least 0[\s\S]*thresholds\.local/],
    [{ kind: 'entropy', thresholds: { local: 0.5, edge: 2 } }, /at most 1[\s\S]*thresholds\.edge/],
    ['entropy', /invalid policy/],
  ])('rejects %j naming the problem', (json, message) => {
    expect(() => parsePolicy(json)).toThrow(message);
  });

  it('names the offending entry of a policies file', () => {
    expect(() => parsePolicies({ kind: 'always-local' })).toThrow(/expected a JSON array/);
    expect(() => parsePolicies([{ kind: 'always-local' }, { kind: 'nope' }])).toThrow(/policy at index 1/);
    expect(parsePolicies([{ kind: 'always-local' }])).toEqual([{ kind: 'always-local' }]);
  });

  it('validates link models', () => {
    const model = { default: { latencyMs: 5, bandwidthKbps: 1000 }, links: { 'device->local': { latencyMs: 1, bandwidthKbps: 250 } } };
    expect(parseLinkModel(model)).toEqual(model);
    expect(() => parseLinkModel({ default: { latencyMs: 5, bandwidthKbps: 0 } })).toThrow(/bandwidthKbps/);
    expect(() => parseLinkModel({ links: { a: { latencyMs: -1, bandwidthKbps: 1 } } })).toThrow(/latencyMs/);
  });

  it('labels policies for tables', () => {
    expect(policyLabel({ kind: 'entropy', thresholds: { local: 0.8, edge: 0.5 } })).toBe('entropy T=0.8/0.5');
    expect(policyLabel({ kind: 'raw-offload' })).toBe('raw-offload');
    expect(policyLabel({ kind: 'always-local', name: 'mine' })).toBe('mine');
    expect(policyLabel({ kind: 'budget', statistic: 'entropy', maxBytesPerSample: 40, minLocalExitRate: 0.5 })).toBe(
      'budget entropy (bytes<=40, local>=0.5)',
    );
    // A fitted threshold is printed to three significant digits; the thresholds a user writes are left as they are.
    const fitted = { thresholds: { local: 0.9949574924912854 }, sessionId: 's', samples: 100, accuracy: 0.9, bytesPerSample: 30, localExitRate: 0.7 };
    expect(policyLabel({ kind: 'budget', statistic: 'entropy', maxBytesPerSample: 40, fitted })).toBe('budget entropy (bytes<=40) T=0.995');
    expect(policyLabel({ kind: 'margin', thresholds: { local: 0.05, edge: 0.123456 } })).toBe('margin T=0.05/0.123');
  });
});
