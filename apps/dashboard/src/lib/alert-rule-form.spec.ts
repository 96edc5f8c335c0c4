import type { AlertRuleView } from '@ddnn/contracts';
import { describeCondition, emptyRuleForm, ruleFormRequest, ruleToForm } from './alert-rule-form';

const DEVICE = '0b9c6a52-1a52-4c1e-9d55-2b1f3c4d5e6f';

describe('the alert rule editor', () => {
  it('turns the form into the request the API takes (seconds and minutes into ms)', () => {
    const r = ruleFormRequest({ ...emptyRuleForm(), name: ' cam 3 misses ', scopeKind: 'device', scopeId: DEVICE });
    expect(r).toEqual({
      ok: true,
      request: {
        name: 'cam 3 misses',
        description: '',
        metric: 'device_miss_rate',
        scope: { kind: 'device', deviceId: DEVICE },
        condition: { comparator: '>', threshold: 0.2 },
        forMs: 120_000,
        clear: { comparator: '<', threshold: 0.1 },
        windowMs: 300_000,
        severity: 'warning',
        enabled: true,
      },
    });
  });

  it('names every problem: no name, not numbers, a missing id, a metric the scope cannot measure', () => {
    const r = ruleFormRequest({ ...emptyRuleForm(), name: '', threshold: 'abc', forSeconds: '-1', windowMinutes: '0', scopeKind: 'device', scopeId: 'cam-3' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(Object.keys(r.errors).sort()).toEqual(['forSeconds', 'name', 'scopeId', 'threshold', 'windowMinutes']);
    const wrongScope = ruleFormRequest({ ...emptyRuleForm(), name: 'x', metric: 'accuracy_estimated', scopeKind: 'all-devices' });
    expect(wrongScope).toEqual({ ok: false, errors: { scopeKind: 'this metric is measured per run' } });
    const inactive = ruleFormRequest({ ...emptyRuleForm(), name: 'x', metric: 'device_inactive', scopeKind: 'all-runs' });
    expect(inactive).toEqual({ ok: false, errors: { scopeKind: 'this metric is measured per device' } });
  });

  it('round-trips a stored rule through the form', () => {
    const rule: AlertRuleView = {
      id: 'r1',
      name: 'Estimated accuracy dropped',
      description: 'd',
      metric: 'accuracy_estimated',
      scope: { kind: 'all-runs' },
      condition: { comparator: '<', threshold: 0.8 },
      forMs: 60_000,
      clear: { comparator: '>=', threshold: 0.85 },
      windowMs: 120_000,
      severity: 'major',
      enabled: false,
      defaultKey: 'estimated-accuracy-dropped',
      openAlerts: 0,
      createdAt: '',
      updatedAt: '',
    };
    const r = ruleFormRequest(ruleToForm(rule));
    expect(r.ok && r.request).toEqual({ name: rule.name, description: 'd', metric: rule.metric, scope: rule.scope, condition: rule.condition, forMs: 60_000, clear: rule.clear, windowMs: 120_000, severity: 'major', enabled: false });
    expect(describeCondition(rule.condition, rule.forMs)).toBe('< 0.8 for 1 min');
    expect(describeCondition(rule.condition, 0)).toBe('< 0.8 (at once)');
    expect(describeCondition(rule.condition, 30_000)).toBe('< 0.8 for 30 s');
  });
});
