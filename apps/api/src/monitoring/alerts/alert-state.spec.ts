import { nextTransition, type OpenAlertState } from './alert-state';

const rule = { condition: { comparator: '>' as const, threshold: 0.2 }, clear: { comparator: '<' as const, threshold: 0.1 }, forMs: 60_000 };
const pending = (since: number): OpenAlertState => ({ state: 'pending', pendingSince: since });
const firing: OpenAlertState = { state: 'firing', pendingSince: 0 };

describe('nextTransition (Grafana-style rule states for one subject)', () => {
  it('opens pending when the condition holds, or firing at once without a duration', () => {
    expect(nextTransition(null, 0.1, rule, 0)).toEqual({ kind: 'none' });
    expect(nextTransition(null, 0.2, rule, 0)).toEqual({ kind: 'none' }); // strict comparator
    expect(nextTransition(null, 0.3, rule, 0)).toEqual({ kind: 'open', state: 'pending' });
    expect(nextTransition(null, 0.3, { ...rule, forMs: 0 }, 0)).toEqual({ kind: 'open', state: 'firing' });
  });

  it('fires once the condition held for the duration, and closes unfired when it stops holding first', () => {
    expect(nextTransition(pending(1000), 0.3, rule, 60_999)).toEqual({ kind: 'touch' });
    expect(nextTransition(pending(1000), 0.3, rule, 61_000)).toEqual({ kind: 'fire' });
    expect(nextTransition(pending(1000), 0.15, rule, 30_000)).toEqual({ kind: 'resolve', reason: 'condition-gone' });
  });

  it('resolves a firing alert only when the clear condition holds (hysteresis)', () => {
    expect(nextTransition(firing, 0.15, rule, 0)).toEqual({ kind: 'touch' });
    expect(nextTransition(firing, 0.3, rule, 0)).toEqual({ kind: 'touch' });
    expect(nextTransition(firing, 0.05, rule, 0)).toEqual({ kind: 'resolve', reason: 'cleared' });
  });

  it('changes nothing without data (null or not finite)', () => {
    for (const v of [null, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(nextTransition(null, v, rule, 0)).toEqual({ kind: 'none' });
      expect(nextTransition(pending(0), v, rule, 120_000)).toEqual({ kind: 'touch' });
      expect(nextTransition(firing, v, rule, 0)).toEqual({ kind: 'touch' });
    }
  });

  it('supports every comparator', () => {
    const at = (comparator: '>' | '>=' | '<' | '<=', v: number) => nextTransition(null, v, { ...rule, condition: { comparator, threshold: 1 }, forMs: 0 }, 0).kind;
    expect([at('>', 1), at('>=', 1), at('<', 1), at('<=', 1), at('<', 0.5), at('>', 2)]).toEqual(['none', 'open', 'none', 'open', 'open', 'open']);
  });
});
